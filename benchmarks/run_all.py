"""Run every benchmark in one go and print their reports (numbers go into README.md "Benchmarks")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("bench_decode.py", "bench_startup.py", "bench_detect.py", "bench_detectors.py", "bench_tracking.py",
               "bench_jobs.py", "bench_batch.py", "bench_reliability.py"):
    print(f"\n== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]] if script == "bench_detect.py"
                   else [sys.executable, str(HERE / script)], check=True, cwd=HERE.parent)
