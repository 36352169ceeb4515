"""A bounded soak of a running server: a seeded mix of valid and invalid requests over loopback at a fixed
concurrency, each with the status it must get. Used by tests/integration/test_soak.py (which asserts) and
benchmarks/bench_reliability.py (which reports throughput and latency).

The mix (README "Reliability"): detection with yolo11n on a few frames, /health, /models/info, tracking with
yolo11n-seg on a short range of tracking.mp4, a few summaries (qwen2-5-vl-72b, 2 frames, 64 new tokens) and ontology
suggestions (llama-3-3-70b, 1 per type) — the demo's tiny models, so that a CPU runs it in about a minute — and a
share of invalid requests that must get their 4xx: frames outside the video, paths outside the media roots, missing
files, an undecodable file, unknown models, bad ranges, an empty ontology, a form body, a wrong method.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil

from scripts.local_server import start_service

ENVELOPE = {"error", "message", "details"}


@dataclass(frozen=True)
class Call:
    kind: str  # what it exercises, e.g. "detect" or "invalid: frame outside the video"
    method: str
    path: str
    expect: int
    json: dict | None = None
    content: bytes | None = None
    headers: dict = field(default_factory=dict)

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Outcome:
    call: Call
    status: int  # 0: no HTTP answer (connection error, timeout)
    seconds: float
    problem: str | None = None  # why it counts as an unexpected error; None when it got what it expected


def start_soak_server(config: Path, folder: Path):
    """`bentoml serve` of `config` whose media roots are the config's `media` folder plus one holding a file that is no
    video (for the 422s): (process, url, media folder, that file)."""
    media = config.parent / "media"
    extra = folder / "soak-media"
    extra.mkdir(parents=True, exist_ok=True)
    broken = extra / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)  # an MP4 header, then noise
    process, url, _ = start_service(config, folder / "serve.log", env={"MEDIA_ROOTS": f"{media}:{extra}"})
    return process, url, media, broken


def valid_calls(media: Path) -> dict[str, Call]:
    shapes, tracking = str(media / "shapes.mp4"), str(media / "tracking.mp4")
    return {
        "detect": Call("detect", "POST", "/api/detect", 200,
                       {"video_path": shapes, "frame_numbers": [0, 60, 120], "model": "yolo11n"}),
        "health": Call("health", "GET", "/health", 200),
        "models_info": Call("models_info", "GET", "/models/info", 200),
        "track": Call("track", "POST", "/api/track", 200,
                      {"video_path": tracking, "model": "yolo11n-seg", "frame_range": {"start": 0, "end": 11},
                       "confidence_threshold": 0.5}),
        "summarize": Call("summarize", "POST", "/api/summarize", 200,
                          {"video_path": tracking, "model": "qwen2-5-vl-72b", "frame_count": 2,
                           "max_new_tokens": 64}),
        "augment": Call("augment", "POST", "/api/augment", 200,
                        {"persona_name": "traffic analyst", "model": "llama-3-3-70b", "max_suggestions_per_type": 1,
                         "existing_ontology": {"entity_types": ["Car", "Pedestrian"], "event_types": ["Crossing"]}}),
    }


def invalid_calls(media: Path, broken: Path | None) -> list[Call]:
    shapes = str(media / "shapes.mp4")
    calls = [
        Call("invalid: frame outside the video", "POST", "/api/detect", 400,
             {"video_path": shapes, "frame_numbers": [0, 100000], "model": "yolo11n"}),
        Call("invalid: path outside the media roots", "POST", "/api/detect", 403,
             {"video_path": "/etc/passwd", "frame_numbers": [0]}),
        Call("invalid: no such video", "POST", "/api/track", 404,
             {"video_id": "no-such-video", "frame_range": {"start": 0, "end": 5}}),
        Call("invalid: unknown model", "POST", "/api/detect", 400,
             {"video_path": shapes, "frame_numbers": [0], "model": "no-such-model"}),
        Call("invalid: empty frame range", "POST", "/api/track", 400,
             {"video_path": shapes, "frame_range": {"start": 5, "end": 5}}),
        Call("invalid: empty ontology", "POST", "/api/augment", 400,
             {"persona_name": "scout", "existing_ontology": {"roles": []}}),
        Call("invalid: unload an unknown model", "POST", "/models/unload", 404, {"model_id": "no-such-model"}),
        Call("invalid: form body", "POST", "/models/load", 415, content=b"model_id=yolo11n",
             headers={"content-type": "application/x-www-form-urlencoded"}),
        Call("invalid: wrong method", "GET", "/api/detect", 405),
        Call("invalid: body is not JSON", "POST", "/api/summarize", 400, content=b"{not json",
             headers={"content-type": "application/json"}),
    ]
    if broken is not None:  # a file inside the media roots that is no video
        calls.append(Call("invalid: not a video", "POST", "/api/detect", 422,
                          {"video_path": str(broken), "frame_numbers": [0]}))
    return calls


# Shares of the mix; what is left after the valid kinds is invalid requests.
SHARES = {"detect": 0.34, "health": 0.10, "models_info": 0.10, "track": 0.10, "summarize": 0.03, "augment": 0.03}


def mixed_calls(media: Path, broken: Path | None = None, total: int = 300, seed: int = 0) -> list[Call]:
    """`total` calls in a seeded random order: SHARES of the valid kinds, the rest invalid ones in turn."""
    valid, invalid = valid_calls(media), invalid_calls(media, broken)
    calls = [valid[kind] for kind, share in SHARES.items() for _ in range(max(1, round(total * share)))]
    calls += [invalid[i % len(invalid)] for i in range(max(0, total - len(calls)))]
    random.Random(seed).shuffle(calls)
    return calls


def warm_up_calls(media: Path) -> list[Call]:
    """One request per model the mix uses: each is loaded before the soak starts."""
    valid = valid_calls(media)
    return [valid[kind] for kind in ("detect", "track", "summarize", "augment", "health", "models_info")]


def warm_up(url: str, media: Path, broken: Path | None = None, concurrency: int = 16) -> list[str]:
    """Loads each model the mix uses (one request each, in turn), then sends one short burst of the mix at the soak's
    concurrency; returns the problems. The burst matters for memory: jobs running side by side take the runners'
    memory to a high-water mark that stays (the tracking runner: flat at 1.01 GB over 200 jobs one at a time, 1.24 GB
    after its first 25 concurrent ones and flat after that), so memory measured after the burst shows growth, not
    the first concurrency."""
    loaded, _ = run(url, warm_up_calls(media), concurrency=1)
    burst, _ = run(url, mixed_calls(media, broken, total=4 * concurrency, seed=-1), concurrency=concurrency)
    return [o.problem for o in loaded + burst if o.problem]


def check(call: Call, response: httpx.Response) -> str | None:
    if response.status_code != call.expect:
        return f"{call.kind}: expected {call.expect}, got {response.status_code}: {response.text[:300]}"
    if call.expect >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or set(body) != ENVELOPE or not body["details"].get("request_id"):
            return f"{call.kind}: {response.status_code} without the error envelope: {response.text[:300]}"
    return None


def run(url: str, calls: list[Call], concurrency: int = 16, timeout_s: float = 120) -> tuple[list[Outcome], float]:
    """Sends `calls` with `concurrency` threads over one connection pool; (outcomes in call order, wall seconds)."""
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the soak runs over loopback only, not {host}")
    outcomes: list[Outcome | None] = [None] * len(calls)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=url, timeout=timeout_s, limits=limits) as client:
        def send(index: int) -> None:
            call = calls[index]
            started = time.perf_counter()
            try:
                response = client.request(call.method, call.path, json=call.json, content=call.content,
                                          headers=call.headers)
                outcome = Outcome(call, response.status_code, time.perf_counter() - started, check(call, response))
            except httpx.HTTPError as exc:
                outcome = Outcome(call, 0, time.perf_counter() - started, f"{call.kind}: {type(exc).__name__}: {exc}")
            outcomes[index] = outcome

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(send, range(len(calls))))
        return outcomes, time.perf_counter() - started  # type: ignore[return-value]


def process_tree_rss(pid: int) -> int:
    """Resident memory of the server process and every process below it (the runners and the public worker)."""
    root = psutil.Process(pid)
    total = 0
    for process in (root, *root.children(recursive=True)):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def model_loads(client: httpx.Client) -> dict[tuple[str, str], float]:
    """(runner, model) -> how many loads /metrics has recorded (vms_model_load_seconds_count)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").text
    return {(s.labels["runner"], s.labels["model"]): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == "vms_model_load_seconds_count"}


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def report(outcomes: list[Outcome], seconds: float) -> dict:
    """Throughput, p50/p95 latency per route and kind of request, unexpected errors and statuses."""
    by_route: dict[str, list[float]] = defaultdict(list)
    for outcome in outcomes:
        label = outcome.call.route if outcome.call.expect < 400 else f"{outcome.call.route} (invalid)"
        by_route[label].append(outcome.seconds)
    return {
        "requests": len(outcomes), "seconds": seconds, "throughput": len(outcomes) / seconds,
        "latency": {route: {"count": len(v), "p50": percentile(v, 0.50), "p95": percentile(v, 0.95)}
                    for route, v in sorted(by_route.items())},
        "statuses": dict(sorted(Counter(o.status for o in outcomes).items())),
        "unexpected": [o.problem for o in outcomes if o.problem],
    }


class Sampler:
    """Peak RSS of a process tree, sampled in the background while a soak runs."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, process_tree_rss(self.pid))
            self._stop.wait(self.every_s)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
