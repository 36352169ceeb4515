"""The published contract: openapi.json is what the service serves, clean for client generators, and the generated
client in clients/python is what the generator makes of it."""

from __future__ import annotations

import filecmp
import json
import subprocess
from pathlib import Path

import pytest

from scripts.export_openapi import TARGET, contract

REPO = Path(__file__).resolve().parents[3]
ROUTES = ("/health", "/models/info", "/models/load", "/models/unload", "/api/detect", "/api/track", "/api/summarize",
          "/api/augment")


def test_the_committed_contract_is_the_services():
    assert TARGET.read_text() == contract(), "run `make openapi` and commit openapi.json"


def test_the_contract_is_clean_for_generators():
    spec = json.loads(TARGET.read_text())
    assert spec["info"]["title"] == "Video model service" and spec["info"]["version"][0].isdigit()
    assert "IODescriptor" not in TARGET.read_text() and "InvalidArgument" not in spec["components"]["schemas"]
    for route in ROUTES:
        operation = next(iter(spec["paths"][route].values()))
        assert operation["operationId"].isidentifier(), route
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(ok) == {"$ref"}, route  # a named model, not an inline schema
        for status, response in operation["responses"].items():
            if status != "200":
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorResponse"}, (route, status)
    assert set(spec["paths"]["/api/detect"]["post"]["responses"]) == {"200", "400", "403", "404", "413", "415", "422",
                                                                      "429", "500", "503", "504"}
    assert {"429", "504"} <= set(spec["paths"]["/models/unload"]["post"]["responses"])  # the traffic limits
    assert "exclusiveMinimum" not in json.dumps(spec).replace('"exclusiveMinimum": true', "")  # OpenAPI 3.0's form
    assert spec["paths"]["/api/detect"]["post"]["requestBody"]["required"] is True


@pytest.mark.slow
def test_the_generated_client_is_up_to_date(tmp_path):
    generated = tmp_path / "python"
    run = subprocess.run([str(REPO / "scripts" / "generate_client.sh"), str(generated)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    committed = REPO / "clients" / "python"
    differences = []

    def compare(a: Path, b: Path) -> None:
        result = filecmp.dircmp(a, b, ignore=["__pycache__", ".ruff_cache"])
        differences.extend([str(a / n) for n in result.left_only + result.right_only + result.diff_files
                            if not n.endswith(".egg-info")])
        for name in result.common_dirs:
            compare(a / name, b / name)

    compare(committed, generated)
    assert differences == [], "run `make client` and commit clients/python"
