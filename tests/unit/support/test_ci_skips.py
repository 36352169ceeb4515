"""Under CI=true a skipped test, or a test module skipped at import, fails the run; elsewhere it stays a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"


@pytest.fixture
def suite(pytester):
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(
        test_engine="""
import pytest

@pytest.mark.skipif(True, reason="vLLM's CPU build is not installed")
def test_engine():
    pass

def test_ok():
    pass
""",
        test_client="""
import pytest
pytest.importorskip("no_such_generated_client")

def test_client():
    pass
""")
    return pytester


def test_a_skipped_test_fails_under_ci(suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "test_engine.py")
    result.assert_outcomes(passed=1, errors=1)  # a skipif mark skips in setup: its failure is an error
    result.stdout.fnmatch_lines(["*skipped under CI=true*vLLM's CPU build is not installed*"])


def test_a_module_skipped_at_import_stops_the_run_under_ci(suite, monkeypatch):
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)  # a collection error: pytest runs nothing, and says why
    result.stdout.fnmatch_lines(["*skipped under CI=true*no_such_generated_client*"])
    assert result.ret != 0


def test_skips_stay_skips_elsewhere(suite, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == 0
