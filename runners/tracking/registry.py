"""Tracker families: the config's `family` -> how to build its backend, and for the SAM 2 family the policy that
chooses among SAM 2's candidates (SAM 2.1's own, SAMURAI's, SAM2Long's): the SAM 2 core never imports a policy, the
table hands it in. `config/models.yaml` is checked against this table when the service starts.

Each builder imports its backend when it runs: torch and the family's library load with the first model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runners.core.config import ModelOption, ServiceConfig

Builder = Callable[[str, ModelOption, ServiceConfig, str], Any]


def _yolo_seg(name: str, option: ModelOption, config: ServiceConfig, device: str):
    from runners.detection.backends.yolo import resolve_weights
    from runners.tracking.backends.yolo_seg import YoloSegTracker

    weights = resolve_weights(name, config.resolve_local(option.model_id), config.weights_dir)
    return YoloSegTracker(name, weights, device, imgsz=option.imgsz)


def sam2_policy(family: str):
    """The policy class of a SAM 2 family: `policy(settings, model_config)` decides each frame's mask and memory."""
    if family == "samurai":
        from runners.tracking.backends.sam2.samurai import SamuraiPolicy

        return SamuraiPolicy
    if family == "sam2long":
        from runners.tracking.backends.sam2.sam2long import Sam2LongPolicy

        return Sam2LongPolicy
    if family == "sam2":
        from runners.tracking.backends.sam2.core import Sam2Policy

        return Sam2Policy
    raise ValueError(f"unknown SAM 2 family {family!r}; expected one of {SAM2_FAMILIES}")


def load_sam2_tracker(name: str, model_id: str, family: str, device: str):
    """A loaded SAM 2.1 checkpoint driven by `family`'s policy."""
    policy = sam2_policy(family)
    from runners.tracking.backends.sam2.core import Sam2Tracker

    return Sam2Tracker(name, model_id, family, policy, device)


def _sam2(family: str) -> Builder:
    def build(name: str, option: ModelOption, config: ServiceConfig, device: str):
        return load_sam2_tracker(name, config.resolve_local(option.model_id), family, device)

    return build


SAM2_FAMILIES = ("sam2", "samurai", "sam2long")
FAMILIES: dict[str, Builder] = {"yolo-seg": _yolo_seg, **{family: _sam2(family) for family in SAM2_FAMILIES}}


def load_tracker(name: str, option: ModelOption, config: ServiceConfig, device: str):
    """The backend of one configured tracker (its family was checked when the configuration loaded)."""
    return FAMILIES[option.family](name, option, config, device)
