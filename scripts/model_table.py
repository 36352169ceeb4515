"""What serves each model name, shipped and in the offline demo: the README's table, printed from the two configs.

    python scripts/model_table.py --demo demo/models.yaml

The README's "What serves each name" table is this script's output (a test keeps them equal)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runners.core.config import DEFAULT_CONFIG, ModelOption, ServiceConfig, load_config  # noqa: E402

HEADER = ["| name | task | shipped checkpoint | weights | serves as | demo: served by | demo weights |",
          "| --- | --- | --- | --- | --- | --- | --- |"]


def checkpoints(option: ModelOption) -> str:
    """The shipped model_id, and any engine that loads another checkpoint for it."""
    text = f"`{option.model_id}`"
    for engine in ("sglang", "vllm"):
        own = getattr(option.engine, engine)
        if own is not None and own.model_id:
            text += f"; {'SGLang' if engine == 'sglang' else 'vLLM'}: `{own.model_id}`"
    return text


def table(shipped: ServiceConfig, demo: ServiceConfig) -> list[str]:
    rows = list(HEADER)
    for task, task_config in shipped.models.items():
        for name, option in task_config.options.items():
            in_demo = demo.option(task, name)
            demo_cells = [in_demo.serves_as or f"`{in_demo.model_id}`", in_demo.weights] if in_demo else ["—", "—"]
            rows.append("| " + " | ".join([f"`{name}`", task, checkpoints(option), option.weights,
                                           option.serves_as or "—", *demo_cells]) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--demo", type=Path, default=Path("demo/models.yaml"))
    args = parser.parse_args()
    print("\n".join(table(load_config(args.config), load_config(args.demo))))


if __name__ == "__main__":
    main()
