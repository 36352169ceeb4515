"""The Bento: its packages follow pyproject, and `bentoml build` makes a CUDA image recipe offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_bento_packages_match_the_project_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    bento = yaml.safe_load((REPO / "bentofile.yaml").read_text())["python"]["packages"]
    assert sorted(bento) == sorted(project)


@pytest.mark.slow
def test_bentoml_build_offline_makes_a_cuda_image_with_ffmpeg(tmp_path):
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "bentoml"), "BENTOML_DO_NOT_TRACK": "True"}
    build = subprocess.run([sys.executable, "-m", "bentoml", "build", str(REPO), "--output", "tag"],
                           capture_output=True, text=True, env=env, timeout=300, cwd=REPO)
    assert build.returncode == 0, build.stdout + build.stderr
    tag = re.search(r"__tag__:(\S+)", build.stdout).group(1)
    name, version = tag.split(":")
    bento = tmp_path / "bentoml" / "bentos" / name / version
    dockerfile = (bento / "env" / "docker" / "Dockerfile").read_text()
    assert "nvidia/cuda" in dockerfile or "cuda" in dockerfile.lower()
    assert "ffmpeg" in dockerfile
    assert (bento / "env" / "docker" / "setup_script").exists() or "setup_script" in dockerfile
    openapi = yaml.safe_load((bento / "apis" / "openapi.yaml").read_text())
    for route in ("/api/detect", "/api/track", "/api/summarize", "/api/augment", "/models/unload", "/models/load"):
        assert route in openapi["paths"], route
    assert (bento / "src" / "config" / "models.yaml").exists()
