#!/usr/bin/env bash
# The CPU image's setup script (bentofile.cpu.yaml docker.setup_script), run after the Python packages are
# installed. BentoML's first apt step installs build-essential and git, for packages built from source; every
# package here is a wheel and nothing compiles at run time on the CPU, so the compilers, the C headers and git leave
# the image's file system (their bytes stay in the lower layer). The GPU image keeps them: Triton, under the
# engines, compiles its kernels' launchers with the C compiler at run time.
set -euo pipefail
apt-get purge -y --auto-remove build-essential gcc g++ cpp make dpkg-dev libc6-dev git
rm -rf /var/lib/apt/lists/*
