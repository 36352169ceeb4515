"""The README's "What serves each name" table is what the two configurations say."""

from __future__ import annotations

from runners.core.config import DEFAULT_CONFIG, REPO_ROOT, load_config
from scripts.model_table import table


def test_the_readme_table_matches_the_shipped_and_demo_configs(demo_config):
    rows = table(load_config(DEFAULT_CONFIG), load_config(demo_config))
    readme = (REPO_ROOT / "README.md").read_text()
    assert "\n".join(rows) in readme, "README out of date: python scripts/model_table.py"
    assert len(rows) == 2 + 18  # the header, the 17 names of the mission and yolo11n
