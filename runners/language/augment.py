"""Ontology augmentation for an analyst: the prompt (persona, domain, task, the existing ontology), the answer's JSON
schema, and reading the answer back into suggestions that fit the ontology, with confidences.

Categories. One generation answers all four categories, in the order entity_types, event_types, roles,
relationships: they refer to each other (a role applies to event or entity types, a relationship joins two entity
types), so they are suggested together, types first so that the roles and relationships written after them can use
them. A category missing from `existing_ontology` is one with no names yet; a client that wants one category reads
that list.

The schema asks for at most `max_suggestions_per_type` items per category (maxItems), for `definition` only when
definitions are included and for `examples` (of entity and event types) only when examples are included, and for
the model's own `confidence` in each suggestion, a number in [0, 1], always: it is the fallback below.

Reading the answer back:
- Names are compared by `normalize_key` (case and separators ignored: "Stolen Base" = "stolen_base" = "StolenBase"
  = "stolen-base"). A suggestion that repeats an existing name or an earlier suggestion is dropped. Entity and event
  types share one namespace (a role's `applicable_to` may name either, so one name must not mean both); roles and
  relationships each have their own.
- Names are rewritten in the style of the category's existing names (`detect_style`: the style most of them are
  written in; ties go to the category's default). A category without names takes its sibling's style (entity <->
  event types), else the default: PascalCase for entity/event types and roles (they name things: a Pitcher, a
  StolenBase), snake_case for relationships (they are predicates: located_in).
- A relationship's `source_type` and `target_type` must name an existing or suggested entity type: an end that
  matches one after normalization is rewritten to that type's spelling (repaired), otherwise the relationship is
  dropped. A role's `applicable_to` keeps the names that match an existing or suggested entity or event type
  (rewritten likewise); the others are removed, the role stays.
- Each list is cut to `max_suggestions_per_type` (the schema already bounds it on engines that enforce schemas):
  dropped suggestions take no place, and what comes after a full list is counted as over the limit. Every drop,
  repair and removal is counted.
- `confidence` is the geometric-mean probability of the tokens that wrote the suggestion's name, where the engine
  gives log-probabilities: the name is the suggestion itself, while the definition's and examples' tokens measure
  wording, and their many predictable tokens would pull a whole-object mean towards 1. Without log-probabilities it
  is the model's own rating. `confidence_source` says which ("token_probability" | "model_rating"; null with no
  confidence, which only an engine that does not enforce the schema can cause).
- An answer that is not an object with the category lists, or whose every suggestion is malformed (no name with a
  letter or digit in it), raises InvalidAnswer: the caller retries once, then answers 503. Well-formed suggestions
  that are all dropped as repeats are an answer: no new suggestions.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from runners.core.errors import BadRequest
from runners.language.answer_budget import ascii_text, worst_case_tokens
from runners.language.engines.chat import ChatRequest, ChatResult, InvalidAnswer
from runners.language.summarize import value_spans

CATEGORIES = ("entity_types", "event_types", "roles", "relationships")
TYPE_CATEGORIES = ("entity_types", "event_types")
# The categories whose names a suggestion must not repeat (entity and event types share a namespace).
NAMESPACES = {"entity_types": TYPE_CATEGORIES, "event_types": TYPE_CATEGORIES, "roles": ("roles",),
              "relationships": ("relationships",)}
SIBLINGS = {"entity_types": "event_types", "event_types": "entity_types"}
DEFAULT_STYLES = {"entity_types": "PascalCase", "event_types": "PascalCase", "roles": "PascalCase",
                  "relationships": "snake_case"}
DESCRIPTIONS = {
    "entity_types": "kinds of things that can be seen in the video: people, animals, objects, places",
    "event_types": "kinds of things that happen: actions, occurrences, changes of state",
    "roles": "parts that an entity plays in an event; `applicable_to` names the event or entity types it applies to",
    "relationships": "how two entity types are related; `source_type` and `target_type` must be entity types listed "
                     "above or suggested by you",
}

# Bounds that keep a weak model's answer finite under constrained decoding (an unbounded string runs to the token
# limit and the JSON is cut off).
NAME = {"type": "string", "minLength": 1, "maxLength": 60}
DEFINITION = {"type": "string", "minLength": 1, "maxLength": 300}
EXAMPLES = {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "string", "minLength": 1, "maxLength": 80}}
APPLICABLE_TO = {"type": "array", "maxItems": 8, "items": NAME}
RATING = {"type": "number", "minimum": 0, "maximum": 1}
# The same, shorter, for an answer that must fit a token budget.
SHORT_NAME = ascii_text(32, min_chars=1)
SHORT_DEFINITION = ascii_text(120, min_chars=1)
SHORT_EXAMPLES = {"type": "array", "minItems": 1, "maxItems": 2, "items": ascii_text(24, min_chars=1)}

SYSTEM = ("You are an ontology engineer. You help a video analyst extend the ontology they annotate videos with: "
          "entity types, event types, roles and relationships. Suggest only types the ontology does not have yet, "
          "in any spelling, that matter for this analyst's work. Answer with JSON only.")


# -- names ---------------------------------------------------------------------------------------------------------
def name_words(name: str) -> list[str]:
    """The words of a name in any style: split at separators and at case changes ("GPSDevice" -> GPS, Device)."""
    words = []
    for chunk in re.split(r"[\W_]+", re.sub(r"['’]", "", name)):  # "Driver's" is one word
        words += _case_parts(chunk) if chunk else []
    return words


def _case_parts(chunk: str) -> list[str]:
    parts, start = [], 0
    for i in range(1, len(chunk)):
        before, letter, after = chunk[i - 1], chunk[i], chunk[i + 1: i + 2]
        # "stolenBase" | "Player2Name" | "GPSDevice" (an acronym ends before the capital that starts a word)
        if letter.isupper() and (before.islower() or before.isdigit() or (before.isupper() and after.islower())):
            parts.append(chunk[start:i])
            start = i
    return parts + [chunk[start:]]


def normalize_key(name: str) -> str:
    """What two names must share to be the same type: their words, case-folded, without separators."""
    return "".join(name_words(name)).casefold()


def _capitalized(word: str) -> str:
    return word if len(word) > 1 and word.isupper() else word[:1].upper() + word[1:].lower()  # acronyms stay


STYLES: dict[str, Callable[[list[str]], str]] = {  # the order breaks ties between styles a name fits equally
    "PascalCase": lambda words: "".join(map(_capitalized, words)),
    "snake_case": lambda words: "_".join(map(str.lower, words)),
    "Title Case": lambda words: " ".join(map(_capitalized, words)),
    "camelCase": lambda words: words[0].lower() + "".join(map(_capitalized, words[1:])),
    "kebab-case": lambda words: "-".join(map(str.lower, words)),
    "lower case": lambda words: " ".join(map(str.lower, words)),
    "Sentence case": lambda words: " ".join([_capitalized(words[0])] +
                                            [w if len(w) > 1 and w.isupper() else w.lower() for w in words[1:]]),
    "SCREAMING_SNAKE_CASE": lambda words: "_".join(w.upper() for w in words),
}


def apply_style(name: str, style: str) -> str:
    """`name` written in `style` ("" when it has no letter or digit)."""
    words = name_words(name)
    if len(words) > 1 and name.upper() == name:  # "STOLEN BASE" is shouting, not two acronyms
        words = [word.lower() for word in words]
    return STYLES[style](words) if words else ""


def detect_style(names: list[str], default: str) -> str | None:
    """The style most of `names` are written in (a single word fits several: "Person" is PascalCase and Title Case);
    ties go to `default`, then to the order of STYLES. None when no name fits any style."""
    votes = Counter(style for name in names for style in STYLES if name and apply_style(name, style) == name)
    if not votes:
        return None
    best = max(votes.values())
    return next(style for style in [default, *STYLES] if votes[style] == best)


def existing_names(existing: dict[str, list[str] | None], category: str) -> list[str]:
    return existing.get(category) or []


def name_index(names: list[str]) -> dict[str, str]:
    """Normalized key -> the name as written (a name without a letter or digit has no key)."""
    return {key: name for name in names if (key := normalize_key(name))}


def category_styles(existing: dict[str, list[str] | None]) -> dict[str, str]:
    """The style each category's suggestions are written in: its own names', else its sibling's, else the default."""
    detected = {category: detect_style(existing_names(existing, category), DEFAULT_STYLES[category])
                for category in CATEGORIES}
    sibling = {category: detected[SIBLINGS[category]] if category in SIBLINGS else None for category in CATEGORIES}
    return {category: detected[category] or sibling[category] or DEFAULT_STYLES[category] for category in CATEGORIES}


# -- prompt --------------------------------------------------------------------------------------------------------
def augment_schema(max_per_type: int, include_definitions: bool, include_examples: bool,
                   max_new_tokens: int | None = None) -> dict:
    """Every property required and no others (OpenAI strict mode). In each item: what it is (its name and what it
    refers to), then what it means, then the rating, after what it rates.

    With `max_new_tokens` (asked after an answer was cut there): shorter strings and lists, and as many items per
    category as let every answer the schema allows fit that many tokens (runners/language/answer_budget.py)."""
    if max_new_tokens is None:
        return _schema(max_per_type, include_definitions, include_examples, NAME, DEFINITION, EXAMPLES)
    for items in range(max_per_type, 0, -1):
        schema = _schema(items, include_definitions, include_examples, SHORT_NAME, SHORT_DEFINITION, SHORT_EXAMPLES)
        if worst_case_tokens(schema) <= max_new_tokens:
            return schema
    return _schema(0, include_definitions, include_examples, SHORT_NAME, SHORT_DEFINITION, SHORT_EXAMPLES)


def _schema(max_per_type: int, include_definitions: bool, include_examples: bool, name: dict, definition: dict,
            examples: dict) -> dict:
    def item(references: dict, with_examples: bool) -> dict:
        properties = {"name": name, **references}
        if include_definitions:
            properties["definition"] = definition
        if with_examples:
            properties["examples"] = examples
        properties["confidence"] = RATING
        return {"type": "object", "properties": properties, "required": list(properties),
                "additionalProperties": False}

    type_item = item({}, include_examples)
    applies_to = {"type": "array", "maxItems": APPLICABLE_TO["maxItems"] if name is NAME else 2, "items": name}
    items = {"entity_types": type_item, "event_types": type_item,
             "roles": item({"applicable_to": applies_to}, False),
             "relationships": item({"source_type": name, "target_type": name}, False)}
    return {"type": "object",
            "properties": {category: {"type": "array", "maxItems": max_per_type, "items": items[category]}
                           for category in CATEGORIES},
            "required": list(CATEGORIES), "additionalProperties": False}


def empty_answer_tokens() -> int:
    """The most tokens the empty answer (four empty lists) can take: no budget below it holds any answer."""
    return worst_case_tokens(_schema(0, False, False, SHORT_NAME, SHORT_DEFINITION, SHORT_EXAMPLES))


def build_request(persona_name: str, existing: dict[str, list[str] | None], *, domain_context: str | None,
                  task_description: str | None, max_per_type: int, temperature: float, include_definitions: bool,
                  include_examples: bool, max_new_tokens: int) -> ChatRequest:
    if max_new_tokens < empty_answer_tokens():  # found by fuzzing: it was cut twice, then a 503
        raise BadRequest(f"max_new_tokens must be at least {empty_answer_tokens()} for suggestions: the JSON of an "
                         f"empty answer alone can take that many tokens", field="max_new_tokens")
    styles = category_styles(existing)
    lines = [f"Analyst: {persona_name}"]
    if domain_context and domain_context.strip():
        lines.append(f"Domain: {domain_context.strip()}")
    if task_description and task_description.strip():
        lines.append(f"Task: {task_description.strip()}")
    lines.append("The ontology already has these names; do not suggest them again in any spelling:")
    for category in CATEGORIES:  # JSON lists: a name with a comma in it stays one name
        lines.append(f"- {category}: {json.dumps(existing_names(existing, category), ensure_ascii=False)}")
    lines.append(f"Suggest up to {max_per_type} new names per category that this analyst would annotate:")
    for category in CATEGORIES:
        lines.append(f"- {category}, names in {styles[category]}: {DESCRIPTIONS[category]}.")
    asks = []
    if include_definitions:
        asks.append("Give each a one-sentence `definition`.")
    if include_examples:
        asks.append("Give each entity and event type a few concrete `examples` of what would be annotated with it.")
    asks.append("`confidence` is how sure you are, from 0 to 1, that the analyst needs the suggestion.")
    text = "\n".join(lines + [" ".join(asks)])
    return ChatRequest(text=text, system=SYSTEM, json_schema=augment_schema(max_per_type, include_definitions,
                                                                            include_examples),
                       schema_name="ontology_suggestions", max_new_tokens=max_new_tokens, temperature=temperature,
                       logprobs=True)


# -- answer --------------------------------------------------------------------------------------------------------
def read_answer(result: ChatResult, existing: dict[str, list[str] | None], max_per_type: int) -> dict[str, Any]:
    """The response's `suggestions` and `total_suggestions`, plus what post-validation did: `dropped` (suggestions
    left out, by reason), `repaired` (references respelled to a known type) and `removed` (names taken out of
    roles' `applicable_to`)."""
    data = result.data
    if not isinstance(data, dict) or not any(isinstance(data.get(category), list) for category in CATEGORIES):
        raise InvalidAnswer(f"the model's answer has none of the lists {', '.join(CATEGORIES)}")
    styles = category_styles(existing)
    # normalized key -> the spelling to use, per category: existing names, then the suggestions kept so far
    known = {category: name_index(existing_names(existing, category)) for category in CATEGORIES}
    counts: dict[str, Counter[str]] = {"dropped": Counter(), "repaired": Counter(), "removed": Counter()}
    suggestions: dict[str, list[dict[str, Any]]] = {}
    offered = 0
    for category in CATEGORIES:  # types first: roles and relationships refer to them
        kept = suggestions[category] = []
        for item, name_span in candidates(result, category):
            offered += 1
            if len(kept) == max_per_type:  # full: what follows is cut, whatever else is wrong with it
                counts["dropped"]["over_limit"] += 1
                continue
            suggestion = shape(category, item, styles[category], known, counts)
            if suggestion is None:
                continue
            suggestion.update(confidence(result, item, name_span))
            known[category][normalize_key(suggestion["name"])] = suggestion["name"]
            kept.append(suggestion)
    if offered and counts["dropped"]["malformed"] == offered:
        raise InvalidAnswer(f"none of the model's {offered} suggestions has a usable name")
    return {"suggestions": suggestions, "total_suggestions": sum(map(len, suggestions.values())),
            "dropped": {reason: counts["dropped"][reason]
                        for reason in ("duplicate", "malformed", "over_limit", "dangling_relationship")},
            "repaired": {field: counts["repaired"][field] for field in ("relationship_end", "applicable_to")},
            "removed": {"applicable_to": counts["removed"]["applicable_to"]}}


def candidates(result: ChatResult, category: str) -> list[tuple[Any, tuple[int, int] | None]]:
    """The category's items, each with the character span of its name value in the answer's text (None when the
    text cannot be lined up with the parsed items)."""
    items = result.data.get(category)
    if not isinstance(items, list):
        return []
    spans = item_spans(result.text, category)
    if len(spans) != len(items):
        return [(item, None) for item in items]
    names = value_spans(result.text, "name")
    return [(item, next((name for name in names if start <= name[0] < end), None))
            for item, (start, end) in zip(items, spans)]


_SEPARATOR = re.compile(r"\s*,?\s*")  # between a JSON array's elements


def item_spans(text: str, key: str) -> list[tuple[int, int]]:
    """Character spans of the elements of the array value of `key` in a JSON text, in order."""
    match = re.search(rf'"{re.escape(key)}"\s*:\s*\[', text)
    if match is None:
        return []
    decoder = json.JSONDecoder(strict=False)
    spans, position = [], _after_separator(text, match.end())
    while position < len(text) and text[position] != "]":
        try:
            _, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        spans.append((position, end))
        position = _after_separator(text, end)
    return spans


def _after_separator(text: str, position: int) -> int:
    """The position after the whitespace and comma, if any, that start at `position`."""
    match = _SEPARATOR.match(text, position)
    assert match is not None  # every part of the pattern is optional: it matches at any position
    return match.end()


def shape(category: str, item: Any, style: str, known: dict[str, dict[str, str]],
          counts: dict[str, Counter[str]]) -> dict[str, Any] | None:
    """The suggestion in the response's shape, its name in the category's style and its references resolved; None
    (counted) when it is malformed, a repeat, or a relationship with an end that is no entity type."""
    name = apply_style(item["name"], style) if isinstance(item, dict) and isinstance(item.get("name"), str) else ""
    if not name:
        counts["dropped"]["malformed"] += 1
        return None
    key = normalize_key(name)
    if any(key in known[other] for other in NAMESPACES[category]):
        counts["dropped"]["duplicate"] += 1
        return None
    suggestion: dict[str, Any] = {"name": name, "definition": _text(item.get("definition"))}
    if category in TYPE_CATEGORIES:
        examples = item.get("examples")
        suggestion["examples"] = ([e.strip() for e in examples if isinstance(e, str) and e.strip()]
                                  if isinstance(examples, list) else None)
    elif category == "roles":
        suggestion["applicable_to"] = applicable_to(item.get("applicable_to"), known, counts)
    else:
        given = [item.get("source_type"), item.get("target_type")]
        ends = [resolve(end, known["entity_types"]) for end in given]
        if None in ends:
            counts["dropped"]["dangling_relationship"] += 1
            return None
        counts["repaired"]["relationship_end"] += sum(end != spelled for end, spelled in zip(given, ends))
        suggestion["source_type"], suggestion["target_type"] = ends
    return suggestion


def applicable_to(names: Any, known: dict[str, dict[str, str]], counts: dict[str, Counter[str]]) -> list[str]:
    """The names that are entity or event types, in those types' spelling, each once."""
    types = {**known["entity_types"], **known["event_types"]}
    kept = []
    for name in names if isinstance(names, list) else []:
        spelled = resolve(name, types)
        if spelled is None:
            counts["removed"]["applicable_to"] += 1
        elif spelled not in kept:
            counts["repaired"]["applicable_to"] += int(name != spelled)
            kept.append(spelled)
    return kept


def resolve(name: Any, types: dict[str, str]) -> str | None:
    """The type `name` refers to, in that type's spelling; None when it names none of `types`."""
    return types.get(normalize_key(name)) if isinstance(name, str) else None


def confidence(result: ChatResult, item: dict, name_span: tuple[int, int] | None) -> dict[str, Any]:
    """From the probabilities of the name's tokens when the engine gave them, else the model's own rating."""
    probability = result.span_confidence(*name_span) if name_span else None
    if probability is not None:
        return {"confidence": probability, "confidence_source": "token_probability"}
    rating = item.get("confidence")
    if isinstance(rating, (int, float)) and not isinstance(rating, bool) and math.isfinite(rating) \
            and 0 <= rating <= 1:
        return {"confidence": float(rating), "confidence_source": "model_rating"}
    return {"confidence": None, "confidence_source": None}


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
