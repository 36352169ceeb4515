"""The soak of tests/integration/test_soak.py, measured: throughput, p50/p95 latency per route and error counts of
mixed requests (scripts/soak.py) at a fixed concurrency against a `bentoml serve` of the demo configuration, over
loopback; RSS of the server's processes after the warm-up and after each round (a leak grows it round after round).

    python benchmarks/bench_reliability.py [--requests 300] [--concurrency 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import soak  # noqa: E402
from scripts.local_server import stop_service  # noqa: E402

MB = 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=Path("demo/models.yaml"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    process, url, media, broken = soak.start_soak_server(args.config.resolve(), Path(tempfile.mkdtemp()))
    try:
        problems = soak.warm_up(url, media, broken, args.concurrency)
        if problems:
            sys.exit("warm-up failed:\n" + "\n".join(problems))
        rss = [soak.process_tree_rss(process.pid)]
        with httpx.Client(base_url=url, timeout=60) as client:
            loads = soak.model_loads(client)
        print(f"warm-up: {', '.join(f'{m} ({r})' for r, m in sorted(loads))} loaded, then a burst of "
              f"{4 * args.concurrency} mixed requests; RSS of the server's processes {rss[0] / MB:.0f} MB")
        results = []
        for round_ in range(args.rounds):
            calls = soak.mixed_calls(media, broken, total=args.requests, seed=args.seed + round_)
            with soak.Sampler(process.pid) as sampler:
                outcomes, seconds = soak.run(url, calls, concurrency=args.concurrency)
            rss.append(soak.process_tree_rss(process.pid))
            result = soak.report(outcomes, seconds)
            results.append(result)
            print(f"round {round_ + 1}: {args.requests} requests at concurrency {args.concurrency} in {seconds:.1f} s: "
                  f"{result['throughput']:.1f} requests/s; statuses {result['statuses']}; "
                  f"unexpected {len(result['unexpected'])}; RSS {rss[-1] / MB:.0f} MB (peak {sampler.peak / MB:.0f})")
            for problem in result["unexpected"][:10]:
                print(f"  unexpected: {problem}")
        with httpx.Client(base_url=url, timeout=60) as client:
            reloaded = {k: v for k, v in soak.model_loads(client).items() if v != loads.get(k)}
    finally:
        stop_service(process)

    best = max(results, key=lambda r: r["throughput"])
    print(f"\nbest round, {best['requests']} requests: {best['throughput']:.1f} requests/s; "
          f"unexpected errors over all rounds: {sum(len(r['unexpected']) for r in results)}; "
          f"models loaded again during the soak: {reloaded or 'none'}")
    print(f"{'route':<40} {'count':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for route, stats in best["latency"].items():
        print(f"{route:<40} {stats['count']:>5} {stats['p50'] * 1000:>8.0f} {stats['p95'] * 1000:>8.0f}")
    print(f"RSS after warm-up / after the last round: {rss[-1] / rss[0]:.3f} (test bound 1.15); per round: "
          + " / ".join(f"{r / MB:.0f}" for r in rss) + " MB")


if __name__ == "__main__":
    main()
