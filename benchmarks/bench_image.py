"""The CPU image: its size, a cached rebuild, and the time from `buildah run` to `/readyz` answering.

    python benchmarks/bench_image.py [--demo demo] [--starts 3]

The image is (re)built by scripts/build_image.py first (its layers are cached: only the Bento's own layer is new),
then started `--starts` times serving the demo, mounted as README "Container images" says.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scripts.build_image import BASE_NAME, BUILDAH_ENV, image_name, run, serve_command  # noqa: E402
from scripts.local_server import free_port  # noqa: E402

ENV = {**os.environ, **BUILDAH_ENV}


def buildah(*args: str) -> str:
    return run("buildah", *args, capture=True)


def seconds_to_ready(image: str, demo: Path) -> float:
    port = free_port()
    container = buildah("from", image).strip()
    started = time.perf_counter()
    process = subprocess.Popen(serve_command(container, port, demo), env=ENV, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise SystemExit("the container stopped before it was ready")
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(60)
        subprocess.run(["buildah", "rm", container], env=ENV, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, default=REPO / "demo")
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_image.py")], check=True, capture_output=True)
    rebuild = time.perf_counter() - started
    image = image_name("cpu")
    sizes = {name: buildah("images", "--noheading", "--format", "{{.Size}}", name).strip()
             for name in (BASE_NAME, image)}
    starts = [seconds_to_ready(image, args.demo.resolve()) for _ in range(args.starts)]
    print(f"base {BASE_NAME} (local Debian 12): {sizes[BASE_NAME]}")
    print(f"image {image}: {sizes[image]}")
    print(f"cached rebuild (a new commit: the Bento and its top layer): {rebuild:.0f} s")
    print(f"buildah run -> /readyz: best {min(starts):.1f} s, worst {max(starts):.1f} s over {len(starts)} starts")


if __name__ == "__main__":
    main()
