"""`bentoml serve` to ready with no model loaded, and the detection runner's memory after an unload.

    python benchmarks/bench_startup.py [--config demo/models.yaml]

Memory: the runner imports torch with its first model, which stays; so the baseline is taken after a small model
was loaded and unloaded, then a larger one (YOLO-World + its text encoder) is loaded and unloaded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_server import start_service, stop_service  # noqa: E402

MB = 1024**2


def runner_rss(client: httpx.Client) -> int:
    return client.get("/health").json()["runners"]["detection"]["process_rss_bytes"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=Path("demo/models.yaml"))
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp()) / "serve.log"
    times = []
    for _ in range(args.starts):
        process, url, seconds = start_service(args.config.resolve(), log)
        times.append(seconds)
        stop_service(process)
    print(f"bentoml serve ready (no model loaded): {min(times):.1f} s best, {max(times):.1f} s worst "
          f"of {args.starts} (target <= 10 s)")

    process, url, _ = start_service(args.config.resolve(), log)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            cold = runner_rss(client)
            for name in ("yolo11n", "yolo-world-v2"):
                client.post("/models/load", json={"model_id": name}).raise_for_status()
                loaded = runner_rss(client)
                freed = client.post("/models/unload", json={"model_id": name}).json()["memory_freed_bytes"]
                after = runner_rss(client)
                if name == "yolo11n":
                    baseline = after
                    continue
                print(f"runner RSS: cold {cold / MB:.0f} MB, torch imported {baseline / MB:.0f} MB, "
                      f"{name} loaded {loaded / MB:.0f} MB, after unload {after / MB:.0f} MB "
                      f"(reported freed {freed / MB:.0f} MB)")
                print(f"RSS after unload / before load: {after / baseline:.3f} (target within 10%: <= 1.10)")
    finally:
        stop_service(process)


if __name__ == "__main__":
    main()
