"""A bounded soak (README "Reliability"): a server of its own on the demo configuration, each model the mix uses
loaded once in a warm-up (then one burst of 64 mixed requests: see scripts/soak.py `warm_up`), then 300 mixed
requests at concurrency 16 over loopback (scripts/soak.py): detection, tracking, summaries, ontology suggestions,
/health, /models/info and a share of invalid requests. Every response gets the status it must get, no model is
loaded a second time, and the memory of the server's processes at the end is within 15% of what it was after the
warm-up. About 45 s on 2 cores; benchmarks/bench_reliability.py runs the same soak and reports its throughput and
latency.
"""

from __future__ import annotations

import httpx
import pytest

from scripts.local_server import stop_service
from scripts.soak import (
    Sampler,
    mixed_calls,
    model_loads,
    process_tree_rss,
    report,
    run,
    start_soak_server,
    warm_up,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REQUESTS, CONCURRENCY = 300, 16
MODELS = {("detection", "yolo11n"), ("tracking", "yolo11n-seg"), ("language", "qwen2-5-vl-72b"),
          ("language", "llama-3-3-70b")}


@pytest.fixture(scope="module")
def soak_server(demo_config, tmp_path_factory):
    process, url, media, broken = start_soak_server(demo_config, tmp_path_factory.mktemp("soak"))
    try:
        yield {"url": url, "pid": process.pid, "media": media, "broken": broken}
    finally:
        stop_service(process)


def test_mixed_concurrent_requests_get_what_they_expect(soak_server):
    media, pid = soak_server["media"], soak_server["pid"]
    assert warm_up(soak_server["url"], media, soak_server["broken"], CONCURRENCY) == []
    with httpx.Client(base_url=soak_server["url"], timeout=60) as client:
        loads_after_warm_up = model_loads(client)
        assert MODELS <= set(loads_after_warm_up), loads_after_warm_up
        rss_after_warm_up = process_tree_rss(pid)

        calls = mixed_calls(media, soak_server["broken"], total=REQUESTS, seed=7)
        assert len(calls) == REQUESTS and len({c.expect for c in calls}) >= 7  # 200, 400, 403, 404, 405, 415, 422
        with Sampler(pid) as sampler:
            outcomes, seconds = run(soak_server["url"], calls, concurrency=CONCURRENCY)
        result = report(outcomes, seconds)
        print(f"\n{REQUESTS} requests at concurrency {CONCURRENCY}: {seconds:.1f} s, "
              f"{result['throughput']:.1f} requests/s, statuses {result['statuses']}")

        assert result["unexpected"] == [], "\n".join(result["unexpected"][:20])
        loads = model_loads(client)
        assert all(loads[model] == 1 for model in MODELS), loads  # each model loaded once, in the warm-up
        assert loads == loads_after_warm_up, loads  # nothing else loaded, nothing reloaded
        assert client.get("/health").json()["status"] == "healthy"

    rss_at_end = process_tree_rss(pid)
    print(f"RSS of the server's processes: {rss_after_warm_up / 2**20:.0f} MB after warm-up, peak "
          f"{sampler.peak / 2**20:.0f} MB, {rss_at_end / 2**20:.0f} MB at the end")
    assert rss_at_end <= 1.15 * rss_after_warm_up, (rss_after_warm_up, rss_at_end)
