"""Each tracking name reaches its own tracker code through the configuration: the runner builds the backend and, for
the SAM 2 family, the policy that names' family stands for (not only an echoed `model_used`)."""

from __future__ import annotations

import pytest

from runners.tracking.backends.sam2.core import Sam2Policy, Sam2Tracker
from runners.tracking.backends.sam2.sam2long import Sam2LongPolicy
from runners.tracking.backends.sam2.samurai import SamuraiPolicy
from runners.tracking.backends.yolo_seg import YoloSegTracker
from tests.support.runners import runner_in_process


@pytest.fixture(scope="module")
def runner(demo_config):
    with runner_in_process("runners.tracking.service:TrackingRunner", demo_config) as instance:
        yield instance


@pytest.mark.parametrize("name, policy", [
    ("samurai", SamuraiPolicy), ("sam2long", Sam2LongPolicy), ("sam2-1", Sam2Policy)])
def test_each_sam2_name_runs_its_familys_policy(runner, name, policy):
    assert runner.load_reply(name).error is None
    with runner.pool.use(name) as tracker:
        assert type(tracker) is Sam2Tracker and tracker.family == runner.option(name).family
        assert type(tracker.make_policy()) is policy
    runner.unload_reply(name)


def test_yolo11n_seg_runs_the_yolo_seg_tracker(runner):
    assert runner.load_reply("yolo11n-seg").error is None
    with runner.pool.use("yolo11n-seg") as tracker:
        assert type(tracker) is YoloSegTracker and tracker.detects
    runner.unload_reply("yolo11n-seg")
