"""Each detection name reaches its own backend through the configuration, and that backend holds the model class its
family stands for."""

from __future__ import annotations

import pytest

from tests.support.runners import runner_in_process


@pytest.fixture(scope="module")
def runner(demo_config):
    with runner_in_process("runners.detection.service:DetectionRunner", demo_config) as instance:
        yield instance


@pytest.mark.parametrize("name, backend, model_class", [
    ("yolo-world-v2", "YoloWorldDetector", "WorldModel"),
    ("yolo11n", "YoloDetector", "DetectionModel"),
    ("owlv2", "Owlv2Detector", "Owlv2ForObjectDetection"),
    # the class the shipped MM Grounding DINO checkpoint loads as
    ("grounding-dino-1-5", "GroundingDinoDetector", "MMGroundingDinoForObjectDetection"),
    ("florence-2", "Florence2Detector", "Florence2ForConditionalGeneration"),
])
def test_each_detector_name_builds_its_familys_backend(runner, name, backend, model_class):
    assert runner.load_reply(name).error is None
    with runner.pool.use(name) as detector:
        assert type(detector).__name__ == backend
        model = detector.model.model if backend.startswith("Yolo") else detector.model  # ultralytics wraps its nn
        assert type(model).__name__ == model_class
    runner.unload_reply(name)
