"""Detector families: the config's `family` -> how to build its backend. `config/models.yaml` is checked against
this table when the service starts, so a misspelt family stops `bentoml serve` instead of a first request.

Each builder imports its backend when it runs: torch and the family's library load with the first model."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from runners.core.config import ModelOption, ServiceConfig

Builder = Callable[[str, ModelOption, ServiceConfig, str], Any]


def _yolo(name: str, option: ModelOption, config: ServiceConfig, device: str):
    from runners.detection.backends.yolo import YoloDetector, resolve_weights

    return YoloDetector(name, resolve_weights(name, config.resolve_local(option.model_id), config.weights_dir), device)


def _yolo_world(name: str, option: ModelOption, config: ServiceConfig, device: str):
    from runners.detection.backends.yolo import resolve_weights
    from runners.detection.backends.yolo_world import YoloWorldDetector

    weights = resolve_weights(name, config.resolve_local(option.model_id), config.weights_dir)
    encoder = config.resolve_local(option.text_encoder or "openai/clip-vit-base-patch32")
    return YoloWorldDetector(name, weights, encoder, device)


def _transformers(module: str, cls: str) -> Builder:
    def build(name: str, option: ModelOption, config: ServiceConfig, device: str):
        extra = {"max_new_tokens": option.max_new_tokens} if option.max_new_tokens else {}
        detector = getattr(importlib.import_module(f"runners.detection.backends.{module}"), cls)
        return detector(name, config.resolve_local(option.model_id), device, **extra)

    return build


FAMILIES: dict[str, Builder] = {
    "yolo": _yolo,
    "yolo-world": _yolo_world,
    "owlv2": _transformers("owlv2", "Owlv2Detector"),
    "grounding-dino": _transformers("grounding_dino", "GroundingDinoDetector"),
    "florence-2": _transformers("florence2", "Florence2Detector"),
}


def load_detector(name: str, option: ModelOption, config: ServiceConfig, device: str):
    """The backend of one configured detector (its family was checked when the configuration loaded)."""
    return FAMILIES[option.family](name, option, config, device)
