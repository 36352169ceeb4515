"""Contract fuzzing: schemathesis generates requests from the document the demo server publishes at /docs.json
(every route) and checks each answer: never a 5xx, a status the document lists for the route, the content type and
the body schema it documents for that status.

It runs schemathesis' CLI (`st run`) against the session's live server: its pytest plugin does not work with pytest 9
(it sets `Function._nodeid`, which pytest 9 removed), and the CLI's coverage phase (boundaries, wrong types, missing
fields, undeclared content types) is the part that found most. Bounded for CI: FUZZ_EXAMPLES (default 25) fuzzed
examples per route plus the coverage cases, one worker; 15–35 s on 2 cores.

What a fuzzed request can reach: its video path or id is random text, so the media policy refuses it (403/404) before
any model runs, and random model names are 400s. The one route where schema-valid random data reaches a model is
/api/augment (the demo's tiny llama-4-scout); fuzz_hooks.py caps its answer size there. Reproduce a failure with the
`curl` line in the report, or rerun with FUZZ_SEED=<the seed it printed>.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
ROUTES = {"/health", "/models/info", "/models/load", "/models/unload", "/api/detect", "/api/track", "/api/summarize",
          "/api/augment", "/livez", "/readyz", "/healthz", "/metrics", "/api/jobs", "/api/jobs/{job_id}",
          "/api/jobs/{job_id}/result", "/api/jobs/{job_id}/events", "/api/export",
          "/api/render", "/api/jobs/{job_id}/preview.mp4"}
OPERATIONS = len(ROUTES) + 2  # /api/jobs has two (submit, list), and so has /api/jobs/{job_id} (get, cancel)


def st_command() -> list[str]:
    st = Path(sys.executable).with_name("st")
    if not st.exists():
        pytest.skip("schemathesis is not installed: pip install -e '.[dev]'")
    return [str(st)]


def test_every_route_answers_as_documented(service, client, tmp_path):
    assert set(client.get("/docs.json").json()["paths"]) == ROUTES  # every route is fuzzed; a new one shows here
    command = [*st_command(), "run", f"{service['url']}/docs.json", "--checks", CHECKS,
               "--phases", "examples,coverage,fuzzing", "--max-examples", os.environ.get("FUZZ_EXAMPLES", "25"),
               "--workers", "1", "--request-timeout", "120", "--generation-database", "none", "--no-color",
               "--suppress-health-check", "too_slow,filter_too_much,data_too_large"]
    if os.environ.get("FUZZ_SEED"):
        command += ["--seed", os.environ["FUZZ_SEED"]]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.fuzz_hooks",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    shutil.rmtree(tmp_path / ".schemathesis", ignore_errors=True)
    report = run.stdout + run.stderr
    summary = report[report.rfind("SUMMARY"):] if "SUMMARY" in report else report[-3000:]
    print(summary)
    assert run.returncode == 0, report[-20000:]
    assert f"{OPERATIONS} selected / {OPERATIONS} total" in report and f"Tested: {OPERATIONS}" in summary, summary
