"""Build the versioned Bentos: the GPU one (bentofile.yaml) and the CPU one (bentofile.cpu.yaml).

    python scripts/build_bento.py                  # both variants (make build)
    python scripts/build_bento.py --variant cpu    # one of them (make build-cpu)
    python scripts/build_bento.py --print-version  # the version only, builds nothing

The version is `<[project].version>-g<short commit>`, with `-dirty` when the work tree differs from the commit
(tracked changes or untracked files that git does not ignore), e.g. `0.1.0-g1a2b3c4`; both variants get the same
one. The labels `git_commit` (full hash), `git_dirty` and `project_version` go with it (`bentoml get` shows them).
Rebuilding a version that is already in the store replaces it: a clean build of the same commit is the same Bento,
a dirty one is stale. Offline: the bentofiles skip the lock step.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from services.openapi import project_version  # noqa: E402  (one reader of pyproject's version)

BENTOFILES = {"gpu": REPO / "bentofile.yaml", "cpu": REPO / "bentofile.cpu.yaml"}


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state() -> tuple[str | None, str | None, bool]:
    """(full commit, short commit, dirty); the commits are None outside a git checkout."""
    full, short = _git("rev-parse", "HEAD"), _git("rev-parse", "--short", "HEAD")
    status = _git("status", "--porcelain")
    return full, short, bool(status)


def bento_version(version: str, short_commit: str | None, dirty: bool) -> str:
    """A valid BentoML tag version: lowercase alphanumerics, '.', '_', '-', at most 63 characters."""
    parts = [version, f"g{short_commit}" if short_commit else "nogit"]
    if dirty and short_commit:
        parts.append("dirty")
    text = re.sub(r"[^a-z0-9._-]+", "-", "-".join(parts).lower()).strip("-._")
    return text[:63].rstrip("-._")


def bento_name(bentofile: Path) -> str:
    return yaml.safe_load(bentofile.read_text())["name"]


def build(variant: str, version: str, labels: dict[str, str], bentofile: Path | None = None) -> str:
    """The variant's Bento, from its bentofile (or `bentofile`, one derived from it), as `<name>:<version>`."""
    bentofile = bentofile or BENTOFILES[variant]
    tag = f"{bento_name(bentofile)}:{version}"
    bentoml = [sys.executable, "-m", "bentoml"]
    if subprocess.run([*bentoml, "get", tag, "-o", "path"], capture_output=True).returncode == 0:
        print(f"replacing {tag}, already in the store", file=sys.stderr)
        subprocess.run([*bentoml, "delete", "--yes", tag], check=True, capture_output=True)
    command = [*bentoml, "build", "-f", str(bentofile), "--version", version, "--output", "tag"]
    for key, value in labels.items():
        command += ["--label", f"{key}={value}"]
    done = subprocess.run([*command, str(REPO)], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bentoml build failed for the {variant} variant ({bentofile.name})")
    match = re.search(r"__tag__:(\S+)", done.stdout)
    return match.group(1) if match else tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=("all", *BENTOFILES), default="all")
    parser.add_argument("--print-version", action="store_true", help="print the version and build nothing")
    args = parser.parse_args(argv)

    full, short, dirty = git_state()
    version = bento_version(project_version(), short, dirty)
    if args.print_version:
        print(version)
        return 0
    if full is None:
        print("warning: not a git checkout, the version carries no commit", file=sys.stderr)
    labels = {"project_version": project_version(), "git_commit": full or "unknown",
              "git_dirty": str(dirty).lower()}
    for variant in BENTOFILES if args.variant == "all" else (args.variant,):
        tag = build(variant, version, labels)
        print(f"{variant}: {tag}    (bentoml containerize {tag})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
