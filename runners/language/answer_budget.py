"""The most tokens an answer can take under a JSON schema, so that an answer cut at max_new_tokens can be asked for
again under a schema whose every answer fits.

Worst case, as constrained decoding writes it (compact JSON, `": "` and `", "` separators): every structural
character one token, every character of a string up to 4 tokens (a byte-level tokenizer can spell a non-ASCII
character byte by byte) — but one for `ascii_text` strings, whose characters are single bytes — numbers as long as
the grammar lets them be (xgrammar bounds a number with a minimum and a maximum to a few decimals), plus the
end-of-text token.
"""

from __future__ import annotations

import json
import re

TOKENS_PER_CHARACTER = 4
BOUNDED_NUMBER = 10  # "0.1234567" and the like: what xgrammar allows for a number with both bounds
END_OF_TEXT = 1
# Printable ASCII except the quote and the backslash: one byte each and never an escape, so at most one token each.
ASCII_CHARACTER = r"[ !#-\[\]-~]"
ASCII_TEXT = re.compile(rf"^\^{re.escape(ASCII_CHARACTER)}\{{(\d+),(\d+)\}}\$$")


def ascii_text(max_chars: int, min_chars: int = 0) -> dict:
    """A string schema of at most `max_chars` single-byte characters (a pattern: xgrammar ignores maxLength next to
    one)."""
    return {"type": "string", "pattern": f"^{ASCII_CHARACTER}{{{min_chars},{max_chars}}}$"}


def worst_case_tokens(schema: dict) -> int:
    return _tokens(schema) + END_OF_TEXT


def _tokens(schema: dict) -> int:
    if "enum" in schema:
        return max(len(json.dumps(value)) for value in schema["enum"])
    kind = schema.get("type")
    if kind not in LONGEST:
        raise ValueError(f"no longest answer for schema type {kind!r}")
    return LONGEST[kind](schema)


def _object(schema: dict) -> int:
    fields = [len(json.dumps(key)) + len(": ") + _tokens(value) for key, value in schema.get("properties", {}).items()]
    return len("{}") + sum(fields) + len(", ") * max(0, len(fields) - 1)


def _array(schema: dict) -> int:
    items = schema.get("maxItems")
    if items is None:
        raise ValueError("an array without maxItems has no longest answer")
    return len("[]") + items * _tokens(schema["items"]) + len(", ") * max(0, items - 1)


def _string(schema: dict) -> int:
    ascii_only = ASCII_TEXT.match(schema.get("pattern", ""))
    if ascii_only:
        return len('""') + int(ascii_only.group(2))
    if "maxLength" not in schema:
        raise ValueError("a string without maxLength has no longest answer")
    return len('""') + TOKENS_PER_CHARACTER * schema["maxLength"]


def _bounds(schema: dict, kind: str) -> tuple:
    if "minimum" not in schema or "maximum" not in schema:
        raise ValueError(f"{kind} without both bounds has no longest answer")
    return schema["minimum"], schema["maximum"]


def _integer(schema: dict) -> int:
    return max(len(str(bound)) for bound in _bounds(schema, "an integer"))


def _number(schema: dict) -> int:
    return BOUNDED_NUMBER + len(str(int(max(abs(bound) for bound in _bounds(schema, "a number")))))


LONGEST = {"object": _object, "array": _array, "string": _string, "integer": _integer, "number": _number,
           "boolean": lambda schema: len("false")}
