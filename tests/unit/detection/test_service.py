"""The detection runner in-process: mixed batches are grouped correctly and each job gets its own answer."""

from __future__ import annotations

import asyncio
import weakref

import pytest

from runners.core.config import get_config
from tests.support.runners import runner_in_process


@pytest.fixture(scope="module")
def runner(demo_config):
    with runner_in_process("runners.detection.service:DetectionRunner", demo_config) as instance:
        yield instance


def job(video, frame, model="yolo11n", vocabulary=None, **settings):
    from runners.detection.frames import FrameJob

    return FrameJob(video_path=str(video), frame_number=frame, model=model,
                    vocabulary=vocabulary or ["circle", "square", "triangle"], **settings)


def test_status_loads_nothing(runner):
    status = asyncio.run(runner.status())
    assert status.loaded_models == [] and status.device is None


def test_load_reports_device_memory_and_vocabulary(runner):
    info = runner.load_reply("yolo11n")
    assert info.error is None and info.device == "cpu" and info.load_seconds > 0
    assert info.open_vocabulary is False and info.vocabulary == ["circle", "square", "triangle"]
    assert runner.load_reply("no-such-model").error["status"] == 503


def test_a_mixed_batch_answers_each_job(runner, demo_video):
    runner.load_reply("yolo-world-v2")
    jobs = [
        job(demo_video, 120, confidence_threshold=0.15),
        job(demo_video, 10, model="yolo-world-v2", vocabulary=["person", "dog"], confidence_threshold=0.0,
            max_detections=3),
        job(demo_video, 120, labels=["square"], confidence_threshold=0.3),
        job(demo_video, 999),  # outside the video: only this job fails
        job(demo_video, 10, model="yolo-world-v2", vocabulary=["cat"], confidence_threshold=0.0, max_detections=2),
    ]
    results = runner.run_batch(jobs)
    assert [r.frame_number for r in results] == [120, 10, 120, 999, 10]
    full, world_a, squares, bad, world_b = results
    assert full.error is None and full.objects
    alone = runner.run_batch([jobs[0]])[0]  # batching changes no answer, whatever the model finds
    assert [(o.label, o.class_id) for o in full.objects] == [(o.label, o.class_id) for o in alone.objects]
    for mixed, single in zip(full.objects, alone.objects):
        assert mixed.bbox.model_dump() == pytest.approx(single.bbox.model_dump(), abs=0.01)
        assert mixed.confidence == pytest.approx(single.confidence, abs=1e-3)
    assert all(o.label == "square" for o in squares.objects)
    assert bad.error["status"] == 400 and "0..249" in bad.error["message"]
    assert len(world_a.objects) <= 3 and all(o.label in ("person", "dog") for o in world_a.objects)
    assert len(world_b.objects) <= 2 and all(o.label == "cat" and o.class_id == 0 for o in world_b.objects)


def test_unload_frees_and_reports(runner):
    """What the pool measured and charged for a model, and what its unload reports freeing. On CPU memory is the
    process's resident set (psutil), so the test records the pool's own two readings around the free rather than
    reading RSS at other moments: the relations below hold exactly, whatever else the process allocates."""
    pool = runner.pool
    info = runner.load_reply("yolo11n")
    assert info.error is None
    entry = asyncio.run(runner.status()).models["yolo11n"]
    assert entry["state"] == "ready" and entry["in_use"] == 0
    # the load reply reports the bytes the pool measured for the load: a model with weights takes some
    assert entry["memory_bytes"] == info.memory_bytes > 0
    charged = max(entry["memory_bytes"], entry["estimated_bytes"])  # what the budget counts for it
    charged_before = pool._in_use_bytes()
    with pool.use("yolo11n") as detector:
        model, weights = weakref.ref(detector), weakref.ref(detector.model)
    del detector

    readings: list[int] = []
    probe = pool._probe  # the real probe (RSS), its readings kept: the only change

    def recorded(device: str) -> int:
        readings.append(probe(device))
        return readings[-1]

    pool._probe = recorded
    try:
        result = runner.unload_reply("yolo11n")
    finally:
        pool._probe = probe
    assert result.status == "unloaded" and result.model_id == "yolo11n"
    assert len(readings) == 2  # before and after the model was dropped
    before, after = readings
    # freed is the fall of the process's memory across the unload, as the pool measured it...
    assert result.memory_freed_bytes == max(0, before - after)
    # ...and real: yolo11n's ~10 MB of float32 weights go back to the system (gc, then malloc_trim)
    assert result.memory_freed_bytes > 0
    # nothing holds the model any more, and the budget no longer counts it: exactly its charge is given back
    assert model() is None and weights() is None
    assert pool._in_use_bytes() == charged_before - charged
    status = asyncio.run(runner.status())
    assert "yolo11n" not in status.loaded_models and "yolo11n" not in status.models

    again = runner.unload_reply("yolo11n")
    assert (again.status, again.memory_freed_bytes) == ("not_loaded", 0)


def test_concurrent_first_loads_of_a_fresh_runner_load_once(demo_config, monkeypatch):
    """Sixteen requests arriving at a runner that has loaded nothing yet: one pool, one load, sixteen answers."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("MODEL_CONFIG", str(demo_config))
    get_config.cache_clear()
    from runners.detection.service import DetectionRunner

    fresh = DetectionRunner()
    try:
        with ThreadPoolExecutor(16) as executor:
            infos = list(executor.map(lambda _: fresh.load_reply("owlv2"), range(16)))
        assert all(info.error is None for info in infos), [i.error for i in infos if i.error]
        assert fresh.pool.loads == 1
    finally:
        fresh.shutdown()
        get_config.cache_clear()
