"""The detection runner in-process: mixed batches are grouped correctly and each job gets its own answer."""

from __future__ import annotations

import asyncio

import pytest

from runners.core.config import get_config


@pytest.fixture(scope="module")
def runner(demo_config):
    mp = pytest.MonkeyPatch()
    mp.setenv("MODEL_CONFIG", str(demo_config))
    get_config.cache_clear()
    from runners.detection.service import DetectionRunner

    instance = DetectionRunner()
    yield instance
    instance.shutdown()
    mp.undo()
    get_config.cache_clear()


def job(video, frame, model="yolo11n", vocabulary=None, **settings):
    from runners.detection.service import FrameJob

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
    runner.load_reply("yolo11n")
    result = runner.unload_reply("yolo11n")
    assert result.status == "unloaded" and result.memory_freed_bytes >= 0
    assert runner.unload_reply("yolo11n").status == "not_loaded"
    assert "yolo11n" not in asyncio.run(runner.status()).loaded_models


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
