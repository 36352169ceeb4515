"""How much the tests' trained-model metrics move from one training of the demo models to another.

    python scripts/demo_spread.py --seeds 0 1 2 3 4          # ~9 CPU minutes a seed on 2 cores

For each seed it trains the demo's YOLO11n and YOLO11n-seg with that training seed (the synthetic data sets stay
the recipe's), serves them with a real `bentoml serve` of the demo configuration, sends the requests the tests
send and computes the metric each test asserts on (tests/support/demo_scores.py). It prints, per metric, the
threshold the test asserts, the min / median / max over the seeds and the threshold the rule asks for (0.10 under
the worst run, rounded down to a multiple of 0.05; "(!)" marks a threshold above it), and writes it all to
`<work>/spread.json`. Trainings are kept under `<work>/seed-<n>/` and reused by a rerun; the recipe's own seed
reuses the demo's weights when they were trained from the same recipe.

The table goes into README.md ("Tests"); each threshold in tests/support/demo_scores.py and each floor in
scripts/make_demo_models.py sits under the worst run.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import make_demo_models  # noqa: E402
from scripts.local_server import start_service, stop_service  # noqa: E402
from tests.support.config import config_variant  # noqa: E402
from tests.support.demo_scores import EXPECTED, THRESHOLDS, all_scores  # noqa: E402

HELD_OUT = {"detector.map50": ("map50",), "segmenter.map50": ("segmenter", "map50"),
            "segmenter.mask_map50": ("segmenter", "mask_map50")}


def train(seed: int, folder: Path, demo: Path) -> dict:
    """Both trained demo models for `seed` in folder/weights; their held-out metrics (cached in metrics.json)."""
    metrics_path = folder / "metrics.json"
    if metrics_path.exists():
        return json.loads(metrics_path.read_text())
    (folder / "weights").mkdir(parents=True, exist_ok=True)
    demo_metrics = json.loads((demo / "metrics.json").read_text()) if (demo / "metrics.json").exists() else {}
    if demo_metrics.get("seed") == seed and (demo_metrics.get("segmenter") or {}).get("seed") == seed:
        for name in ("yolo11n-shapes.pt", "yolo11n-seg-shapes.pt"):  # the demo build trained this seed already
            shutil.copy(demo / "weights" / name, folder / "weights" / name)
        metrics = demo_metrics
    else:
        work = folder / "work"
        metrics = make_demo_models.train_detector(folder, work, seed=seed)
        metrics["segmenter"] = make_demo_models.train_segmenter(folder, work, seed=seed)
        shutil.rmtree(work, ignore_errors=True)
    metrics_path.write_text(json.dumps(metrics, indent=2))
    return metrics


def measure(folder: Path, demo: Path) -> dict[str, float]:
    """The tests' metrics with this folder's trained models served in place of the demo's."""
    def use_these_weights(config: dict) -> None:
        config["models"]["object_detection"]["options"]["yolo11n"]["model_id"] = str(
            folder / "weights" / "yolo11n-shapes.pt")
        config["models"]["video_tracking"]["options"]["yolo11n-seg"]["model_id"] = str(
            folder / "weights" / "yolo11n-seg-shapes.pt")

    config = config_variant(demo / "models.yaml", folder / "models.yaml", use_these_weights)
    process, url, _ = start_service(config, folder / "serve.log")
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            return all_scores(client, demo)
    finally:
        stop_service(process)


def held_out(metrics: dict) -> dict[str, float]:
    values = {}
    for name, path in HELD_OUT.items():
        value = metrics
        for key in path:
            value = value[key]
        values[name] = value
    return values


MARGIN = 0.10  # each threshold sits at least this far under the worst run, on a 0.05 grid


def rule(worst: float) -> float:
    """The threshold the spread asks for: `MARGIN` under the worst run, rounded down to a multiple of 0.05."""
    return math.floor(round((worst - MARGIN) / 0.05, 6)) * 0.05


def table(runs: dict[int, dict[str, float]]) -> str:
    floors = {f"{model}.{name}": floor for model, names in make_demo_models.FLOORS.items()
              for name, floor in names.items()}
    limits = {**floors, **THRESHOLDS}
    lines = ["| metric | min | median | max | asserted (floor) | rule: min - 0.10, down to 0.05 |",
             "| --- | --- | --- | --- | --- | --- |"]
    for metric, limit in limits.items():
        values = [run[metric] for run in runs.values()]
        lines.append(f"| `{metric}` | {min(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} | "
                     f"{limit:.2f} | {rule(min(values)):.2f}{'' if limit <= rule(min(values)) + 1e-9 else ' (!)'} |")
    for metric, expected in EXPECTED.items():
        values = [run[metric] for run in runs.values()]
        lines.append(f"| `{metric}` | {min(values)} | {statistics.median(values)} | {max(values)} | = {expected} | "
                     f"{'every run' if set(values) == {expected} else '(!) not every run'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--demo", type=Path, default=Path("demo"), help="a built demo (make demo)")
    parser.add_argument("--work", type=Path, default=Path(".cache/demo-spread"))
    parser.add_argument("--train-only", action="store_true", help="train the seeds, measure nothing")
    args = parser.parse_args()
    demo, work = args.demo.resolve(), args.work.resolve()
    make_demo_models.build(demo)  # the videos, configuration and tiny models every seed is measured with
    runs: dict[int, dict[str, float]] = {}
    for seed in args.seeds:
        folder = work / f"seed-{seed}"
        metrics = train(seed, folder, demo)
        print(f"seed {seed}: trained ({held_out(metrics)})", flush=True)
        if args.train_only:
            continue
        runs[seed] = {**held_out(metrics), **measure(folder, demo)}
        print(f"seed {seed}: {json.dumps(runs[seed])}", flush=True)
    if runs:
        (work / "spread.json").write_text(json.dumps({"seeds": runs}, indent=2))
        print(f"\n{len(runs)} trainings (seeds {', '.join(map(str, runs))}):\n{table(runs)}")


if __name__ == "__main__":
    main()
