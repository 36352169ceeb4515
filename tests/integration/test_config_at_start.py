"""A configuration the runners cannot serve stops `bentoml serve` at start, with a message naming the key."""

from __future__ import annotations

import pytest

from scripts.local_server import start_service
from tests.support.config import config_variant

pytestmark = pytest.mark.integration


def test_a_misspelt_family_stops_the_service_at_start_naming_the_key_and_the_families(demo_config, tmp_path):
    def misspell(config):
        config["models"]["video_tracking"]["options"]["samurai"]["family"] = "samuri"

    with pytest.raises(RuntimeError, match="exited"):
        start_service(config_variant(demo_config, tmp_path / "models.yaml", misspell), tmp_path / "serve.log")
    log = (tmp_path / "serve.log").read_text()
    assert "models.video_tracking.options.samurai.family: 'samuri' is not a family of video_tracking" in log
    assert "the families are: sam2, sam2long, samurai, yolo-seg" in log
