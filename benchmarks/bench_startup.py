"""`bentoml serve` to ready with no model loaded, and the detection runner's memory after an unload.

    python benchmarks/bench_startup.py [--config demo/models.yaml]

Memory: the runner imports torch, ultralytics and transformers with its first model, and imported modules stay; so
the model is loaded and unloaded three times and the ratio compares the later cycles (a leak would grow them).
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
            rss = []  # after each load and each unload, three cycles of the largest demo model
            for _ in range(3):
                client.post("/models/load", json={"model_id": "yolo-world-v2"}).raise_for_status()
                rss.append(runner_rss(client))
                client.post("/models/unload", json={"model_id": "yolo-world-v2"}).raise_for_status()
                rss.append(runner_rss(client))
            print(f"runner RSS: cold (no torch) {cold / MB:.0f} MB; yolo-world-v2 load/unload x3: "
                  + " / ".join(f"{r / MB:.0f}" for r in rss) + " MB")
            print(f"first load imports torch, ultralytics and transformers for good ({rss[1] / MB:.0f} MB after the "
                  f"first unload); after that, RSS after unload / before load: {rss[5] / rss[3]:.3f} "
                  f"(target <= 1.10)")
    finally:
        stop_service(process)


if __name__ == "__main__":
    main()
