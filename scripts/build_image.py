"""Build the CPU Bento's container image with buildah (or Docker), without Docker Hub (`make image`).

    python scripts/build_image.py                    # the CPU image, localhost/video-model-service-cpu:<version>
    python scripts/build_image.py --variant gpu      # the GPU Bento's build on the Debian base (see README)
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
   `torch_source` of the Bento says which. The GPU Bento's CUDA base (Ubuntu) cannot be had here either: on the
   local base its bentofile gets `docker.base_image` (the Debian base, which has Python 3.11), so that BentoML
   skips the Ubuntu-only Python install and every later step runs.
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
BASE_PACKAGES = ("python3", "python3-venv", "python3-pip", "python-is-python3", "ca-certificates")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu/torch/"
LOCAL_WHEELS = Path(os.environ.get("VMS_LOCAL_WHEELS", "/opt/pypi-more/files"))  # torch 2.14.1 and its wheels here
WHEELS_IN_BUILD = "/wheels"
DEMO_IN_IMAGE = "/home/bentoml/demo"  # where the run command mounts the demo
FIXED_TIME = 1_700_000_000  # the time every Bento build file gets (see same_times)
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


def derived_bento(variant: str, version: str, labels: dict[str, str], local_torch: bool, base_image: str | None) -> str:
    """The variant's Bento with what this machine needs changed in its bentofile: torch from the local wheel store
    (mounted at /wheels in the build) instead of the PyTorch index, and/or `docker.base_image` (the GPU Bento on
    the Debian base, whose Python is there already: BentoML then skips the CUDA image's Python install)."""
    config = yaml.safe_load(BENTOFILES[variant].read_text())
    if local_torch:  # PyPI's torch 2.14.1 (the CUDA build), from the local wheel store where this machine has one
        config["python"].pop("extra_index_url", None)
        if LOCAL_WHEELS.is_dir():
            config["python"]["find_links"] = [WHEELS_IN_BUILD]
        labels = {**labels, "torch_source": "local-wheel-store" if LOCAL_WHEELS.is_dir() else "pypi"}
    if base_image:
        for option in ("distro", "python_version", "cuda_version"):
            config["docker"].pop(option, None)
        config["docker"]["base_image"] = base_image
        labels = {**labels, "base_image": base_image.replace("/", "_").replace(":", "_")}
    with tempfile.TemporaryDirectory() as work:
        bentofile = Path(work) / "bentofile.yaml"
        bentofile.write_text(yaml.safe_dump(config, sort_keys=False))
        return build(variant, version, labels, bentofile)


def same_times(bento_tag: str) -> None:
    """Give the Bento's build files (the Dockerfile, the requirements, the setup script) one fixed time. Buildah's
    layer cache digests what a COPY copies with its files' times, and a new Bento writes them anew: without this
    every build would install the 7 GB of packages again, and keep another copy of them."""
    path = Path(run(sys.executable, "-m", "bentoml", "get", bento_tag, "-o", "path", capture=True).strip())
    for file in [path / "env", *(path / "env").rglob("*")]:
        os.utime(file, (FIXED_TIME, FIXED_TIME), follow_symlinks=False)


def drop_older_images(image: str) -> None:
    """The image's other tags (earlier builds), then the untagged images buildah keeps from earlier builds' steps,
    so that a machine that builds every commit keeps one image. (A checkout at another path is another Dockerfile:
    BentoML names the setup script by a hash of its path, so its layers are built anew.) The new image's own steps
    stay in its history, where the next build finds them."""
    repository = image.rsplit(":", 1)[0]
    for name in run("buildah", "images", "--noheading", "--format", "{{.Name}}:{{.Tag}}", capture=True).split():
        if name.rsplit(":", 1)[0] == repository and name != image:
            run("buildah", "rmi", name, capture=True)
    run("buildah", "rmi", "--prune", capture=True)


def serve_command(container: str, port: int, demo: Path, *, media: Path | None = None,
                  api_key: str | None = None) -> list[str]:
    """`buildah run` serving the demo from a working container of the image, as README "Container images" shows:
    the demo (configuration and weights) mounted read-only at /home/bentoml/demo, and with `media`, that folder
    as the only media root, /media."""
    mounts = ["--volume", f"{demo}:{DEMO_IN_IMAGE}:ro", "--env", f"MODEL_CONFIG={DEMO_IN_IMAGE}/models.yaml"]
    if media is not None:
        mounts += ["--volume", f"{media}:/media:ro", "--env", "MEDIA_ROOTS=/media"]
    if api_key is not None:
        mounts += ["--env", f"API_KEY={api_key}"]
    return ["buildah", "run", *mounts, container, "--", "/home/bentoml/bento/env/docker/entrypoint.sh",
            "--port", str(port)]


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
    local = args.local_base if args.local_base is not None else args.backend == "buildah"
    if local:
        local_base()
    full, short, dirty = git_state()
    version = bento_version(project_version(), short, dirty)
    labels = {"project_version": project_version(), "git_commit": full or "unknown", "git_dirty": str(dirty).lower()}
    local_torch = not torch_index_reachable()
    base_image = BASE_NAME if args.variant == "gpu" and local else None
    options: list[str] = []
    if local_torch:
        print(f"{TORCH_INDEX} cannot be reached: torch comes from {LOCAL_WHEELS if LOCAL_WHEELS.is_dir() else 'PyPI'}",
              flush=True)
        if LOCAL_WHEELS.is_dir():
            options = ["--opt", f"volume={LOCAL_WHEELS}:{WHEELS_IN_BUILD}:ro"]
    if local_torch or base_image:
        tag = derived_bento(args.variant, version, labels, local_torch, base_image)
    else:
        tag = build(args.variant, version, {**labels, "torch_source": "pytorch-index"})
    image = image_name(args.variant)
    same_times(tag)
    run(sys.executable, "-m", "bentoml", "containerize", "--backend", args.backend, tag, "--image-tag", image,
        *options)
    if args.backend == "buildah":
        drop_older_images(image)
    print(f"image {image} built in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
