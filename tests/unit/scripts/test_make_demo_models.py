"""The demo build's own checks: held-out floors stop a bad training with a message, and the demo records what it
trained (seed, checksum, metrics)."""

from __future__ import annotations

import json

import pytest

from scripts.make_demo_models import FLOORS, DemoBuildError, below_floors, check_floors


def test_a_training_under_its_floor_stops_the_build_naming_the_metric(tmp_path):
    metrics = {"map50": 0.5, "segmenter": {"map50": 0.97, "mask_map50": 0.96}}
    assert below_floors(metrics) == [f"detector map50 0.500 < {FLOORS['detector']['map50']}"]
    with pytest.raises(DemoBuildError, match="detector map50 0.500") as info:
        check_floors(metrics, tmp_path / "metrics.json")
    assert "metrics.json" in str(info.value) and "--force" in str(info.value)
    assert below_floors({"map50": 0.99}) == [f"segmenter {name} 0.000 < {floor}"  # a missing segmenter fails too
                                             for name, floor in FLOORS["segmenter"].items()]


def test_the_demo_records_seed_checksum_and_held_out_metrics_over_its_floors(demo_dir):
    metrics = json.loads((demo_dir / "metrics.json").read_text())
    for trained in (metrics, metrics["segmenter"]):
        assert trained["seed"] == 0 and len(trained["sha256"]) == 64
    assert below_floors(metrics) == []
