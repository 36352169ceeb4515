"""scripts/fetch_models.py plans the right downloads for each configured model (the download itself needs the
internet, which this machine does not have)."""

from __future__ import annotations

import pytest

from runners.config import DEFAULT_CONFIG, load_config
from scripts.fetch_models import plan


def test_plan_names_weights_and_text_encoder():
    config = load_config(DEFAULT_CONFIG)
    assert plan(config, ["yolo-world-v2", "owlv2"]) == [
        ("yolo-world-v2", "ultralytics", "yolov8l-worldv2.pt"),
        ("yolo-world-v2", "huggingface", "openai/clip-vit-base-patch32"),
        ("owlv2", "huggingface", "google/owlv2-large-patch14-ensemble"),
    ]


def test_local_paths_need_no_download(demo_config):
    assert plan(load_config(demo_config), ["yolo11n", "yolo-world-v2"]) == []


def test_unknown_model_is_refused():
    with pytest.raises(SystemExit, match="unknown model"):
        plan(load_config(DEFAULT_CONFIG), ["nope"])
