"""Download the weights of configured models where the internet is reachable, so the service runs offline after.

    python scripts/fetch_models.py yolo-world-v2 owlv2       # named models
    python scripts/fetch_models.py --selected               # each task's selected model
    python scripts/fetch_models.py --all --dry-run          # list what would be fetched

Ultralytics weight names go into `inference.weights_dir`; Hugging Face repos into the Hugging Face cache
(`HF_HOME`, default ~/.cache/huggingface) — bake both into an image or copy them to an air-gapped server, then run
with `HF_HUB_OFFLINE=1`. Local paths are left alone. For a model served by SGLang or vLLM this is the checkpoint
that engine loads (`engine.sglang.model_id` where set); where another engine is the fallback and loads another
checkpoint format, fetch that repo by its id too (`huggingface-cli download <repo>`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runners.core.config import TASKS, ServiceConfig, load_config  # noqa: E402


def plan(config: ServiceConfig, names: list[str]) -> list[tuple[str, str, str]]:
    """(model name, kind, source) for each download: kind is 'ultralytics' or 'huggingface'."""
    items = []
    for name in names:
        option = next((config.option(t, name) for t in TASKS if config.option(t, name)), None)
        if option is None:
            raise SystemExit(f"unknown model {name!r}; configured: {', '.join(all_names(config))}")
        if option.framework == "openai":
            continue  # served elsewhere: its model_id is the endpoint's name for it
        model_id = option.model_id
        if option.framework in ("sglang", "vllm"):  # the checkpoint that engine loads (engine.sglang / engine.vllm)
            model_id, _ = option.engine.checkpoint(option.framework, model_id)
        for source in filter(None, (model_id, option.text_encoder)):
            if source.startswith(("./", "../", "/", "~")):
                continue  # a local path: nothing to fetch
            kind = "ultralytics" if source.endswith(".pt") else "huggingface"
            items.append((name, kind, source))
    return list(dict.fromkeys(items))


def all_names(config: ServiceConfig) -> list[str]:
    return [n for task in config.models.values() for n in task.options]


def fetch(config: ServiceConfig, kind: str, source: str) -> str:
    if kind == "ultralytics":
        from runners.core.ultralytics import import_ultralytics

        import_ultralytics()
        from ultralytics.utils.downloads import attempt_download_asset

        config.weights_dir.mkdir(parents=True, exist_ok=True)
        return str(attempt_download_asset(str(config.weights_dir / source)))
    from huggingface_hub import snapshot_download

    return snapshot_download(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="model names as in /models/info")
    parser.add_argument("--selected", action="store_true", help="each task's selected model")
    parser.add_argument("--all", action="store_true", help="every configured model (hundreds of GB)")
    parser.add_argument("--config", type=Path, default=None, help="default: MODEL_CONFIG or config/models.yaml")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, download nothing")
    args = parser.parse_args()
    config = load_config(args.config)
    names = list(args.models)
    if args.selected:
        names += [task.selected for task in config.models.values()]
    if args.all:
        names += all_names(config)
    if not names:
        parser.error("name models, or use --selected / --all")
    for name, kind, source in plan(config, list(dict.fromkeys(names))):
        if args.dry_run:
            print(f"{name}: {kind} {source}")
            continue
        print(f"{name}: fetching {source} ...", flush=True)
        print(f"{name}: {fetch(config, kind, source)}")


if __name__ == "__main__":
    main()
