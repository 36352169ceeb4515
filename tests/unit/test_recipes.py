"""The recipes the README shows are the files the tests run."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_readme_shows_the_tested_spark_recipe():
    recipe = (REPO / "docs" / "recipes" / "spark_detect.py").read_text()
    assert f"```python\n{recipe}```" in (REPO / "README.md").read_text()
