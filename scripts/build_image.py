"""Build the CPU Bento's container image with buildah (or Docker), without Docker Hub (`make image`).

    python scripts/build_image.py                    # the CPU image, localhost/video-model-service-cpu:<version>
    python scripts/build_image.py --variant gpu      # the GPU Bento's build, on the local base (see README)
    python scripts/build_image.py --backend docker   # where Docker and its registry are at hand

1. **The base.** The generated Dockerfile starts `FROM python:3.11-slim`. Here that image cannot be pulled, so a
   stand-in is made once and tagged with its name: Debian 12 (bookworm, whose Python is 3.11, as the official
   image's) from Debian's own packages with `mmdebstrap`, with what the Dockerfile expects of the official image:
   `python` and `pip` on PATH and a pip that installs into the system Python. It carries this machine's CA bundle
   (the package index is reached through it). A label holds the recipe's hash: the base is rebuilt only when the
   recipe changes. With `--backend docker` and no `--local-base` the real base is pulled instead.
2. **The Bento**, as `make build-cpu` builds it. Its requirements take torch from the PyTorch CPU index
   (2.14.1+cpu). Where that index cannot be reached (here), the image is built from the same Bento but with
   torch 2.14.1 from this machine's local wheel store instead, mounted into the build: PyPI's build of it, the
   CUDA one, with its nvidia-* libraries (about 4 GB more; torch runs on the CPU all the same). The label
   `torch_source` of the Bento says which.
3. **The image**: `bentoml containerize --backend buildah`, the Bento's own Dockerfile unchanged. The models are
   not in it: weights, the configuration and the media are mounted at run time (README "Container images").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.build_bento import BENTOFILES, bento_name, bento_version, build, git_state  # noqa: E402
from services.openapi import project_version  # noqa: E402

BASE_NAME = "docker.io/library/python:3.11-slim"  # what the CPU Bento's Dockerfile starts from
# what the GPU Bento's Dockerfile starts from: Ubuntu's archive is out of reach here, so the same Debian base stands
# in for it, and the GPU build goes as far as a Debian base lets it (README "Container images")
CUDA_BASE_NAME = "docker.io/nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04"
BASE_PACKAGES = ("python3", "python3-venv", "python3-pip", "python-is-python3", "ca-certificates")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu/torch/"
LOCAL_WHEELS = Path(os.environ.get("VMS_LOCAL_WHEELS", "/opt/pypi-more/files"))  # torch 2.14.1 and its wheels here
WHEELS_IN_BUILD = "/wheels"
# buildah as root here: chroot isolation (no OCI runtime needed), overlay storage, and layers kept so that a
# rebuild runs only the steps after the first that changed
BUILDAH_ENV = {"BUILDAH_ISOLATION": "chroot", "STORAGE_DRIVER": "overlay", "BUILDAH_LAYERS": "true"}


def run(*command: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    done = subprocess.run(command, env={**os.environ, **BUILDAH_ENV, **(env or {})}, text=True,
                          stdout=subprocess.PIPE if capture else None)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}")
    return done.stdout or ""


def base_recipe() -> str:
    ca = hashlib.sha256(HOST_CA.read_bytes()).hexdigest() if HOST_CA.exists() else "none"
    text = f"bookworm minbase {' '.join(BASE_PACKAGES)} no-externally-managed ca={ca} v1"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def local_base() -> None:
    """The stand-in for python:3.11-slim, rebuilt only when its recipe changed."""
    recipe = base_recipe()
    found = run("buildah", "images", "--noheading", "--filter", f"label=vms.base-recipe={recipe}", "--format",
                "{{.ID}}", capture=True).split()
    if found:
        print(f"base {BASE_NAME}: recipe {recipe}, already built", flush=True)
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        rootfs = Path(work) / "rootfs.tar"
        run("mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", "bookworm",
            str(rootfs))
        container = run("buildah", "from", "scratch", capture=True).strip()
        try:
            run("buildah", "add", container, str(rootfs), "/")
            if HOST_CA.exists():  # the package index is reached through this machine's CA
                run("buildah", "copy", container, str(HOST_CA), str(HOST_CA))
            # as in the official image, pip installs into the system Python (Debian marks it externally managed)
            run("buildah", "run", container, "--", "rm", "-f", "/usr/lib/python3.11/EXTERNALLY-MANAGED")
            run("buildah", "config", "--env", "LANG=C.UTF-8", "--env", f"SSL_CERT_FILE={HOST_CA}",
                "--cmd", "python3", "--label", f"vms.base-recipe={recipe}", container)
            run("buildah", "commit", "--quiet", "--rm", container, BASE_NAME)
        except BaseException:
            subprocess.run(["buildah", "rm", container], capture_output=True)
            raise
    print(f"base {BASE_NAME}: built from Debian bookworm in {time.perf_counter() - started:.0f} s", flush=True)


def torch_index_reachable() -> bool:
    try:
        urllib.request.urlopen(urllib.request.Request(TORCH_INDEX, method="HEAD"), timeout=10)
        return True
    except OSError:
        return False


def bento_with_local_torch(variant: str, version: str, labels: dict[str, str]) -> str:
    """The variant's Bento, its requirements taking torch from the local wheel store (mounted at /wheels in the
    build) instead of the PyTorch index."""
    config = yaml.safe_load(BENTOFILES[variant].read_text())
    config["python"].pop("extra_index_url", None)
    config["python"]["find_links"] = [WHEELS_IN_BUILD]
    with tempfile.TemporaryDirectory() as work:
        bentofile = Path(work) / "bentofile.yaml"
        bentofile.write_text(yaml.safe_dump(config, sort_keys=False))
        return build(variant, version, {**labels, "torch_source": "local-wheel-store"}, bentofile)


def image_name(variant: str) -> str:
    """The image of this checkout's Bento: `localhost/<bento name>:<version>`."""
    _, short, dirty = git_state()
    return f"localhost/{bento_name(BENTOFILES[variant])}:{bento_version(project_version(), short, dirty)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=tuple(BENTOFILES), default="cpu")
    parser.add_argument("--backend", choices=("buildah", "docker"), default="buildah")
    parser.add_argument("--local-base", action=argparse.BooleanOptionalAction, default=None,
                        help="build the stand-in base (default: with buildah)")
    args = parser.parse_args(argv)
    if args.backend == "buildah" and not shutil.which("buildah"):
        raise SystemExit("buildah is not installed: apt-get install buildah mmdebstrap (or --backend docker)")
    started = time.perf_counter()
    if args.local_base if args.local_base is not None else args.backend == "buildah":
        local_base()
        if args.variant == "gpu":
            run("buildah", "tag", BASE_NAME, CUDA_BASE_NAME)
    full, short, dirty = git_state()
    version = bento_version(project_version(), short, dirty)
    labels = {"project_version": project_version(), "git_commit": full or "unknown", "git_dirty": str(dirty).lower()}
    options: list[str] = []
    if torch_index_reachable():
        tag = build(args.variant, version, {**labels, "torch_source": "pytorch-index"})
    else:
        print(f"{TORCH_INDEX} cannot be reached: torch comes from {LOCAL_WHEELS}", flush=True)
        tag = bento_with_local_torch(args.variant, version, labels)
        options = ["--opt", f"volume={LOCAL_WHEELS}:{WHEELS_IN_BUILD}:ro"]
    image = image_name(args.variant)
    run(sys.executable, "-m", "bentoml", "containerize", "--backend", args.backend, tag, "--image-tag", image,
        *options)
    print(f"image {image} built in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
