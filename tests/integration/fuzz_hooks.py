"""Schemathesis hooks for tests/integration/test_fuzz.py (loaded by `st run` through SCHEMATHESIS_HOOKS)."""

from __future__ import annotations

import schemathesis


def bound_generation(case) -> None:
    """/api/augment is the one route where schema-valid random data reaches a model (the demo's tiny llama-4-scout):
    a long answer costs it seconds to tens of seconds on a CPU, so its size is capped; every other field is fuzzed as
    generated (a tiny positive temperature found a 503 there)."""
    body = case.body
    if case.path != "/api/augment" or not isinstance(body, dict):
        return
    suggestions = body.get("max_suggestions_per_type")
    if isinstance(suggestions, int) and not isinstance(suggestions, bool) and suggestions > 2:
        body["max_suggestions_per_type"] = 1 + suggestions % 2
    tokens = body.get("max_new_tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 128:
        body["max_new_tokens"] = 64 + tokens % 65


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    bound_generation(case)
