"""scripts/fetch_models.py plans the right downloads for each configured model (the download itself needs the
internet, which this machine does not have)."""

from __future__ import annotations

import pytest

from runners.core.config import DEFAULT_CONFIG, load_config
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


def test_language_models_come_from_the_hub_and_remote_ones_are_skipped():
    config = load_config(DEFAULT_CONFIG.parent / "models.cpu.yaml")
    assert plan(config, ["qwen2-5-vl-3b", "gemma-3-4b", "gemma-3-4b-text"]) == [
        ("qwen2-5-vl-3b", "huggingface", "Qwen/Qwen2.5-VL-3B-Instruct"),
        ("gemma-3-4b", "huggingface", "google/gemma-3-4b-it"),
        ("gemma-3-4b-text", "huggingface", "google/gemma-3-4b-it"),
    ]
    data = config.model_dump()
    data["models"]["ontology_augmentation"]["options"]["shared"] = {
        "model_id": "served-name", "framework": "openai", "family": "llama", "params_b": 70,
        "base_url": "http://cluster:30000/v1"}
    remote = config.model_validate(data)
    assert plan(remote, ["shared"]) == []


def test_an_engine_model_fetches_the_checkpoint_its_engine_loads():
    # internvl3-78b is served by SGLang, which loads the original InternVL format (engine.sglang.model_id)
    assert plan(load_config(DEFAULT_CONFIG), ["internvl3-78b", "llama-3-3-70b"]) == [
        ("internvl3-78b", "huggingface", "OpenGVLab/InternVL3-78B"),
        ("llama-3-3-70b", "huggingface", "meta-llama/Llama-3.3-70B-Instruct"),
    ]
