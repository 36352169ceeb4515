"""The Bentos: their packages follow pyproject, the CPU build file differs from the GPU one only where it must, and
`scripts/build_bento.py` builds both offline with a version traceable to the project version and the commit."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from scripts.build_bento import bento_version

REPO = Path(__file__).resolve().parents[2]
BENTOFILES = {"gpu": "bentofile.yaml", "cpu": "bentofile.cpu.yaml"}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_MODEL_CONFIG = "/home/bentoml/bento/src/config/models.cpu.yaml"
DOCUMENTED_ROUTES = ("/health", "/models/info", "/models/load", "/models/unload",
                     "/api/detect", "/api/track", "/api/summarize", "/api/augment")


def _bentofile(variant: str) -> dict:
    return yaml.safe_load((REPO / BENTOFILES[variant]).read_text())


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("variant", BENTOFILES)
def test_bento_packages_match_the_project_dependencies(variant):
    assert sorted(_bentofile(variant)["python"]["packages"]) == sorted(_project()["dependencies"])


def test_the_cpu_bentofile_differs_from_the_gpu_one_only_where_it_must():
    gpu, cpu = _bentofile("gpu"), _bentofile("cpu")
    assert cpu["name"] != gpu["name"]
    assert (gpu["labels"]["variant"], cpu["labels"]["variant"]) == ("gpu", "cpu")
    assert gpu["docker"]["cuda_version"] and gpu["docker"]["setup_script"] == "scripts/install_engines.sh"
    assert "cuda_version" not in cpu["docker"] and cpu["docker"]["setup_script"] == "scripts/remove_build_tools.sh"
    assert cpu["python"]["extra_index_url"] == [CPU_INDEX]
    cpu_envs = {e["name"]: e["value"] for e in cpu["envs"]}
    assert cpu_envs["MODEL_CONFIG"] == CPU_MODEL_CONFIG
    assert (REPO / "config" / Path(CPU_MODEL_CONFIG).name).exists()

    expected = copy.deepcopy(gpu)
    expected["name"], expected["labels"]["variant"] = cpu["name"], "cpu"
    del expected["docker"]["cuda_version"]
    expected["docker"]["setup_script"] = "scripts/remove_build_tools.sh"
    expected["python"]["extra_index_url"] = [CPU_INDEX]
    expected["envs"] = gpu["envs"] + [{"name": "UV_INDEX_STRATEGY", "value": "unsafe-best-match"},
                                      {"name": "MODEL_CONFIG", "value": CPU_MODEL_CONFIG}]
    assert cpu == expected


@pytest.mark.parametrize(("version", "commit", "dirty", "expected"), [
    ("0.5.0", "1a2b3c4", False, "0.5.0-g1a2b3c4"),
    ("0.5.0", "1a2b3c4", True, "0.5.0-g1a2b3c4-dirty"),
    ("1.0.0rc1+Local", "1a2b3c4d", False, "1.0.0rc1-local-g1a2b3c4d"),  # '+' is not allowed in a Bento version
    ("0.5.0", None, True, "0.5.0-nogit"),
])
def test_bento_version(version, commit, dirty, expected):
    assert bento_version(version, commit, dirty) == expected


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.slow
def test_build_script_makes_both_bentos_offline(tmp_path):
    home = tmp_path / "bentoml"
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    build = subprocess.run([sys.executable, str(REPO / "scripts" / "build_bento.py")],
                           capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    tags = dict(re.findall(r"^(gpu|cpu): (\S+)", build.stdout, re.MULTILINE))
    assert set(tags) == set(BENTOFILES), build.stdout

    commit, short = _git("rev-parse", "HEAD"), _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain"))
    version = f"{_project()['version']}-g{short}" + ("-dirty" if dirty else "")
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*-g[0-9a-f]{7,}(-dirty)?", version)

    for variant, tag in tags.items():
        name, got_version = tag.split(":")
        assert name == _bentofile(variant)["name"]
        assert got_version == version
        bento = home / "bentos" / name / version
        info = yaml.safe_load((bento / "bento.yaml").read_text())
        assert info["labels"]["git_commit"] == commit
        assert info["labels"]["project_version"] == _project()["version"]
        assert info["labels"]["git_dirty"] == str(dirty).lower()
        assert info["labels"]["variant"] == variant

        dockerfile = (bento / "env" / "docker" / "Dockerfile").read_text()
        base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE).group(1)
        # ffmpeg among the packages of an `apt-get install` (its RUN may continue over several lines)
        assert re.search(r"apt-get install(?:[^\n]|\\\n)*\bffmpeg\b", dockerfile), variant
        # the setup script, copied into the Bento and run by its Dockerfile (BentoML names the CPU one by its hash)
        setup = "install_engines.sh" if variant == "gpu" else "remove_build_tools.sh"
        [script] = [p for p in (bento / "env" / "docker").iterdir() if p.name.startswith(("setup_script", "script__"))]
        assert script.read_text() == (REPO / "scripts" / setup).read_text()
        assert re.search(rf"^RUN .*\S*/env/docker/{script.name}$", dockerfile, re.MULTILINE)
        if variant == "gpu":
            assert base.startswith("nvidia/cuda:12.8"), base
        else:
            assert "cuda" not in base and base.startswith("python:3.11"), base
            # BentoML writes the index into the image's requirements.txt, which the Dockerfile installs with uv
            requirements = (bento / "env" / "python" / "requirements.txt").read_text().splitlines()
            assert f"--extra-index-url {CPU_INDEX}" in requirements
            assert "torch==2.14.1" in requirements
            assert re.search(r"uv .*pip install -r \S*/env/python/requirements.txt", dockerfile)
            assert "ENV MODEL_CONFIG=$MODEL_CONFIG" in dockerfile
            assert f"ARG MODEL_CONFIG={CPU_MODEL_CONFIG}" in dockerfile
            assert "ARG UV_INDEX_STRATEGY=unsafe-best-match" in dockerfile
            assert (bento / "src" / "config" / "models.cpu.yaml").exists()

        openapi = yaml.safe_load((bento / "apis" / "openapi.yaml").read_text())
        missing = [route for route in DOCUMENTED_ROUTES if route not in openapi["paths"]]
        assert not missing, f"{variant}: {missing} not in apis/openapi.yaml"
        assert (bento / "src" / "config" / "models.yaml").exists()
        assert not (bento / "src" / "tests").exists()
