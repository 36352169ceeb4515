"""Variants of the demo configuration for servers that need one of their own."""

from __future__ import annotations

from pathlib import Path


def config_variant(demo_config: Path, path: Path, edit=None) -> Path:
    """A copy of the demo configuration at `path`, its relative paths made absolute (so it works from another
    folder), after `edit(config_dict)`."""
    import yaml

    config = yaml.safe_load(demo_config.read_text())
    for task in config["models"].values():
        for option in task["options"].values():
            for key in ("model_id", "text_encoder"):
                if str(option.get(key, "")).startswith("./"):
                    option[key] = str(demo_config.parent / option[key])
    config["media"]["roots"] = [str(demo_config.parent / root) for root in config["media"]["roots"]]
    if edit is not None:
        edit(config)
    path.write_text(yaml.safe_dump(config))
    return path
