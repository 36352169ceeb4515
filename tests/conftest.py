"""Shared fixtures: the offline demo models (built once per machine, keyed by their recipe) and its config."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = Path(os.environ.get("DEMO_DIR", REPO / "demo"))


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    from scripts.make_demo_models import build

    build(DEMO_DIR)
    return DEMO_DIR


@pytest.fixture(scope="session")
def demo_config(demo_dir: Path) -> Path:
    return demo_dir / "models.yaml"


@pytest.fixture(scope="session")
def demo_video(demo_dir: Path) -> Path:
    return demo_dir / "media" / "shapes.mp4"


@pytest.fixture(scope="session")
def demo_truth(demo_video: Path) -> dict:
    return json.loads(demo_video.with_suffix(".json").read_text())
