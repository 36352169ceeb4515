"""`/models/info` on the demo says where every name's weights come from, so random weights or a demo model are never
mistaken for the real checkpoint."""

from __future__ import annotations

import json

import pytest

from services.schemas import ModelsInfoResponse

pytestmark = pytest.mark.integration

TRAINED = {"yolo11n", "yolo11n-seg"}  # trained on synthetic shapes by scripts/make_demo_models.py


def test_every_demo_name_says_which_demo_checkpoint_serves_it(client, demo_dir):
    info = ModelsInfoResponse.model_validate(client.get("/models/info").json())
    assert len(info.models) == 18  # the 17 names and yolo11n
    for name, model in info.models.items():
        assert model.weights == ("demo-trained" if name in TRAINED else "random"), name
        folder = demo_dir / model.model_id
        assert folder.exists() and model.serves_as and model.model_id in model.serves_as, name
        if folder.is_dir():  # a transformers checkpoint: the class it holds is the one named
            architecture = json.loads((folder / "config.json").read_text())["architectures"][0]
            assert f"tiny random {architecture}" in model.serves_as, name


def test_grounding_dino_in_the_demo_claims_no_mm_grounding_dino_checkpoint(client):
    model = ModelsInfoResponse.model_validate(client.get("/models/info").json()).models["grounding-dino-1-5"]
    assert model.weights == "random"
    assert model.serves_as == "tiny random MMGroundingDinoForObjectDetection (./weights/grounding-dino-tiny)"
    assert "large" not in (model.serves_as + model.description).lower()
