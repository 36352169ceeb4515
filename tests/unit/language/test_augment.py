"""Ontology augmentation's prompt, schema and answer: repeats of existing types dropped in any spelling, relationship
ends and roles' types resolved against the ontology, lists cut to the limit, names in the ontology's style,
confidences from the name's token probabilities or the model's rating — on crafted answers, through xgrammar, and on
a tiny real Llama."""

from __future__ import annotations

import json
import math

import pytest

from runners.language.augment import (
    apply_style,
    augment_schema,
    build_request,
    category_styles,
    detect_style,
    name_words,
    normalize_key,
    read_answer,
)
from runners.language.engines.chat import ChatResult, InvalidAnswer

EXISTING = {"entity_types": ["Player", "Vehicle", "Person"], "event_types": ["Stolen Base", "Home Run"],
            "roles": ["pitcher"], "relationships": ["located_in"]}


def crafted(answer, logprob: float = -0.1, low: dict[str, float] | None = None, sort_keys: bool = False) -> ChatResult:
    """A result whose every character is one token with `logprob`, except the characters of each JSON string
    "<text>" named in `low`, which get the log-probability given there."""
    text = json.dumps(answer, sort_keys=sort_keys)
    logprobs = [logprob] * len(text)
    for value, value_logprob in (low or {}).items():
        start = text.index(json.dumps(value))
        logprobs[start:start + len(json.dumps(value))] = [value_logprob] * len(json.dumps(value))
    return ChatResult(text=text, engine="stub", model="m", tokens_generated=len(text),
                      token_logprobs=list(zip(text, logprobs)), data=answer)


def answer(**categories) -> dict:
    return {category: categories.get(category, []) for category in EXISTING}


def thing(name: str, rating: float = 0.5, **fields) -> dict:
    return {"name": name, "definition": f"a {name}", "confidence": rating, **fields}


def names(read: dict, category: str) -> list[str]:
    return [suggestion["name"] for suggestion in read["suggestions"][category]]


def schema_errors(value, schema: dict, path: str = "$") -> list[str]:
    """The JSON-schema keywords augment_schema uses, checked."""
    checks = {"object": dict, "array": list, "string": str, "number": (int, float)}
    if not isinstance(value, checks[schema["type"]]) or isinstance(value, bool):
        return [f"{path}: {value!r} is not {schema['type']}"]
    errors = []
    if schema["type"] == "object":
        errors += [f"{path}: {key} missing" for key in schema["required"] if key not in value]
        errors += [f"{path}: {key} not allowed" for key in value if key not in schema["properties"]]
        for key, item in value.items():
            if key in schema["properties"]:
                errors += schema_errors(item, schema["properties"][key], f"{path}.{key}")
    if schema["type"] == "array":
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", math.inf):
            errors.append(f"{path}: {len(value)} items")
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{path}[{index}]")
    if schema["type"] == "string" and not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 1e9):
        errors.append(f"{path}: length {len(value)}")
    if schema["type"] == "number" and not schema.get("minimum", -math.inf) <= value <= schema.get("maximum", math.inf):
        errors.append(f"{path}: {value} out of bounds")
    return errors


# -- names ---------------------------------------------------------------------------------------------------------
def test_names_compare_without_case_or_separators():
    spellings = ["Stolen Base", "stolen_base", "StolenBase", "stolen-base", "stolenBase", "STOLEN_BASE",
                 " stolen  base "]
    assert {normalize_key(name) for name in spellings} == {"stolenbase"}
    assert normalize_key("Stolen Bases") != normalize_key("Stolen Base")
    assert name_words("GPSDevice") == ["GPS", "Device"] and name_words("Player2Name") == ["Player2", "Name"]
    assert name_words("Driver's License") == ["Drivers", "License"] and name_words("!!") == []


def test_names_are_written_in_each_style():
    written = {style: apply_style("stolen base", style) for style in (
        "PascalCase", "snake_case", "Title Case", "camelCase", "kebab-case", "lower case", "Sentence case",
        "SCREAMING_SNAKE_CASE")}
    assert written == {"PascalCase": "StolenBase", "snake_case": "stolen_base", "Title Case": "Stolen Base",
                       "camelCase": "stolenBase", "kebab-case": "stolen-base", "lower case": "stolen base",
                       "Sentence case": "Stolen base", "SCREAMING_SNAKE_CASE": "STOLEN_BASE"}
    assert apply_style("gps device", "PascalCase") == "GpsDevice" and apply_style("GPS device", "PascalCase") == \
        "GPSDevice"  # an acronym stays one
    assert apply_style("STOLEN BASE", "PascalCase") == "StolenBase"  # shouting is not a row of acronyms
    assert apply_style("—", "PascalCase") == ""


def test_the_dominant_style_of_existing_names_wins():
    assert detect_style(["Stolen Base", "Home Run", "Pitch"], "PascalCase") == "Title Case"
    assert detect_style(["located_in", "owns", "playsFor"], "PascalCase") == "snake_case"
    assert detect_style(["Person", "Car"], "PascalCase") == "PascalCase"  # single words fit several: the default
    assert detect_style(["Person", "Car"], "snake_case") == "PascalCase"  # ... or the first style they fit
    assert detect_style(["owns"], "PascalCase") == "snake_case"
    assert detect_style(["LOCATED_IN", "OWNS"], "snake_case") == "SCREAMING_SNAKE_CASE"
    assert detect_style([], "PascalCase") is None and detect_style(["!!"], "PascalCase") is None


def test_a_category_without_names_takes_its_siblings_style_or_the_default():
    assert category_styles(EXISTING) == {"entity_types": "PascalCase", "event_types": "Title Case",
                                         "roles": "snake_case", "relationships": "snake_case"}
    assert category_styles({"event_types": ["home-run"], "roles": None}) == {
        "entity_types": "kebab-case", "event_types": "kebab-case", "roles": "PascalCase",
        "relationships": "snake_case"}


# -- schema and prompt ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("definitions, examples", [(True, True), (True, False), (False, True), (False, False)])
def test_the_schema_asks_for_definitions_and_examples_only_when_included(definitions, examples):
    schema = augment_schema(7, definitions, examples)
    assert schema["required"] == ["entity_types", "event_types", "roles", "relationships"]
    assert all(schema["properties"][category]["maxItems"] == 7 for category in schema["required"])
    items = {category: schema["properties"][category]["items"] for category in schema["required"]}
    for category, item in items.items():
        assert item["required"] == list(item["properties"]) and item["additionalProperties"] is False
        assert ("definition" in item["properties"]) == definitions
        assert ("examples" in item["properties"]) == (examples and category in ("entity_types", "event_types"))
        assert item["properties"]["confidence"] == {"type": "number", "minimum": 0, "maximum": 1}
        assert list(item["properties"])[0] == "name" and list(item["properties"])[-1] == "confidence"
    assert "applicable_to" in items["roles"]["properties"]
    assert {"source_type", "target_type"} <= set(items["relationships"]["properties"])


def test_xgrammar_compiles_and_enforces_the_schema():
    from xgrammar import Grammar
    from xgrammar.testing import (
        _is_grammar_accept_string as accepts,  # xgrammar's own test helper
    )

    schema = augment_schema(2, include_definitions=False, include_examples=True)
    grammar = Grammar.from_json_schema(json.dumps(schema), any_whitespace=False)  # as the transformers engine does
    entity = {"name": "Umpire", "examples": ["home plate umpire"], "confidence": 0.75}
    valid = answer(entity_types=[entity], relationships=[{"name": "tags", "source_type": "Player",
                                                          "target_type": "Umpire", "confidence": 0.5}])
    assert schema_errors(valid, schema) == [] and accepts(grammar, json.dumps(valid))
    invalid = [answer(entity_types=[entity] * 3),                                     # over maxItems
               answer(entity_types=[{**entity, "confidence": 1.5}]),                  # rating out of [0, 1]
               answer(entity_types=[{**entity, "definition": "not asked for"}]),      # a field not asked for
               answer(entity_types=[{**entity, "name": ""}]),                         # an empty name
               {key: value for key, value in valid.items() if key != "roles"}]        # a category missing
    for value in invalid:
        assert schema_errors(value, schema) != [] and not accepts(grammar, json.dumps(value)), value


def test_the_request_carries_the_analyst_the_ontology_and_the_options():
    request = build_request("Baseball scout", EXISTING, domain_context="MLB broadcasts",
                            task_description="Annotate base running", max_per_type=4, temperature=0.7,
                            include_definitions=True, include_examples=False, max_new_tokens=900)
    assert "Baseball scout" in request.text and "MLB broadcasts" in request.text and "base running" in request.text
    assert '- event_types: ["Stolen Base", "Home Run"]' in request.text
    assert "event_types, names in Title Case" in request.text and "roles, names in snake_case" in request.text
    assert "`definition`" in request.text and "`examples`" not in request.text and "up to 4" in request.text
    assert request.system and request.images == [] and request.json_schema == augment_schema(4, True, False)
    assert (request.max_new_tokens, request.temperature, request.logprobs) == (900, 0.7, True)
    bare = build_request("Scout", {"roles": None, "entity_types": []}, domain_context="  ", task_description=None,
                         max_per_type=1, temperature=0.0, include_definitions=False, include_examples=True,
                         max_new_tokens=100)
    assert "Domain" not in bare.text and "Task" not in bare.text and "- roles: []" in bare.text
    assert "`examples`" in bare.text and "`definition`" not in bare.text


def test_a_budget_below_the_empty_answer_is_a_bad_request():
    """Found by fuzzing: max_new_tokens=64 (the contract's floor) cannot hold even the empty answer, which was cut
    twice and answered 503; now a 400 that names the least budget."""
    from runners.core.errors import BadRequest
    from runners.language.answer_budget import worst_case_tokens
    from runners.language.augment import empty_answer_tokens

    least = empty_answer_tokens()
    assert least == worst_case_tokens(augment_schema(0, True, True, 1)) > 64
    with pytest.raises(BadRequest, match=f"at least {least}"):
        build_request("Scout", EXISTING, domain_context=None, task_description=None, max_per_type=1, temperature=0.0,
                      include_definitions=True, include_examples=True, max_new_tokens=64)
    assert build_request("Scout", EXISTING, domain_context=None, task_description=None, max_per_type=1,
                         temperature=0.0, include_definitions=True, include_examples=True,
                         max_new_tokens=least).max_new_tokens == least


# -- reading the answer back ---------------------------------------------------------------------------------------
def test_repeats_of_existing_types_are_dropped_in_any_spelling():
    events = [thing(name) for name in ("stolen_base", "StolenBase", "stolen-base", "STOLEN BASE", "Pickoff",
                                       "home run")]
    read = read_answer(crafted(answer(event_types=events, entity_types=[thing("stolen base"), thing("person")],
                                      roles=[thing("Pitcher")], relationships=[thing("LocatedIn", source_type="Player",
                                                                                     target_type="Vehicle")])),
                       EXISTING, 10)
    assert names(read, "event_types") == ["Pickoff"]
    assert names(read, "entity_types") == []  # an entity type may not repeat an event type either
    assert names(read, "roles") == [] and names(read, "relationships") == []
    assert read["dropped"]["duplicate"] == 5 + 2 + 1 + 1 and read["total_suggestions"] == 1


def test_repeats_among_suggestions_keep_the_first():
    read = read_answer(crafted(answer(entity_types=[thing("Umpire", 0.9), thing("umpire", 0.2), thing("Base Coach")],
                                      event_types=[thing("Base Coach"), thing("Balk")],
                                      roles=[thing("catcher"), thing("Catcher")])), EXISTING, 10)
    assert names(read, "entity_types") == ["Umpire", "BaseCoach"] and names(read, "event_types") == ["Balk"]
    assert names(read, "roles") == ["catcher"]
    assert read["dropped"]["duplicate"] == 3 and read["total_suggestions"] == 4


def test_relationship_ends_are_repaired_to_known_entity_types_or_dropped():
    relationships = [thing("parked in", source_type="vehicle", target_type="parking_lot"),  # both ends repaired
                     thing("drives", source_type="Person", target_type="Vehicle"),          # as is
                     thing("flies", source_type="Person", target_type="Airplane"),          # no such type
                     thing("steals", source_type="Player", target_type="Stolen Base"),      # an event type
                     thing("boards", source_type="Person", target_type="Bus")]              # cut from entity types
    read = read_answer(crafted(answer(entity_types=[thing("Parking Lot"), thing("Bus")], relationships=relationships)),
                       EXISTING, 1)
    assert names(read, "entity_types") == ["ParkingLot"]
    assert [(r["name"], r["source_type"], r["target_type"]) for r in read["suggestions"]["relationships"]] == [
        ("parked_in", "Vehicle", "ParkingLot")]
    assert read["dropped"]["over_limit"] == 1 + 4  # Bus; the relationships after parked_in (the list is full)
    read = read_answer(crafted(answer(entity_types=[thing("Parking Lot")], relationships=relationships)), EXISTING, 10)
    assert [(r["name"], r["source_type"], r["target_type"]) for r in read["suggestions"]["relationships"]] == [
        ("parked_in", "Vehicle", "ParkingLot"), ("drives", "Person", "Vehicle")]
    assert read["repaired"]["relationship_end"] == 2 and read["dropped"]["dangling_relationship"] == 3


def test_roles_keep_the_entity_and_event_types_they_name():
    role = thing("Base Runner", applicable_to=["stolen_base", "Player", "Umpire Call", "Stolen Base", "Rundown"])
    read = read_answer(crafted(answer(event_types=[thing("rundown")], roles=[role])), EXISTING, 10)
    assert read["suggestions"]["roles"] == [{"name": "base_runner", "definition": "a Base Runner",
                                             "applicable_to": ["Stolen Base", "Player", "Rundown"],
                                             "confidence": pytest.approx(math.exp(-0.1)),
                                             "confidence_source": "token_probability"}]
    assert read["repaired"]["applicable_to"] == 1 and read["removed"]["applicable_to"] == 1  # stolen_base; Umpire Call


def test_over_long_lists_are_cut_and_drops_take_no_place():
    entities = [thing("Player"), *(thing(f"Fielder {n}") for n in range(1, 6))]
    read = read_answer(crafted(answer(entity_types=entities)), EXISTING, 3)
    assert names(read, "entity_types") == ["Fielder1", "Fielder2", "Fielder3"]
    assert read["dropped"] == {"duplicate": 1, "malformed": 0, "over_limit": 2, "dangling_relationship": 0}


def test_suggestions_are_written_in_the_style_of_their_category():
    existing = {"entity_types": ["GPS Device", "Team Bus"], "event_types": ["ball-thrown"],
                "roles": ["DesignatedHitter"], "relationships": ["playsFor", "coachedBy"]}
    read = read_answer(crafted(answer(entity_types=[thing("dugout_bench")], event_types=[thing("Double Play")],
                                      roles=[thing("relief pitcher")],
                                      relationships=[thing("THROWS_TO", source_type="gps_device",
                                                           target_type="team bus")])), existing, 10)
    assert [names(read, category) for category in EXISTING] == [["Dugout Bench"], ["double-play"], ["ReliefPitcher"],
                                                                 ["throwsTo"]]
    relationship = read["suggestions"]["relationships"][0]
    assert (relationship["source_type"], relationship["target_type"]) == ("GPS Device", "Team Bus")


def test_confidence_follows_the_tokens_of_each_name():
    entities = [thing("Umpire", rating=0.1), thing("Mascot", rating=0.9), thing("Bat Boy", rating=0.9)]
    result = crafted(answer(entity_types=entities), logprob=-0.05,
                     low={"Mascot": -2.0, "a Bat Boy": -3.0}, sort_keys=True)  # keys in another order than asked
    sure, unsure, worded = read_answer(result, EXISTING, 10)["suggestions"]["entity_types"]
    assert sure["confidence"] == pytest.approx(math.exp(-0.05)) and sure["confidence_source"] == "token_probability"
    assert unsure["confidence"] == pytest.approx(math.exp(-2.0)) and unsure["confidence"] < sure["confidence"]
    assert worded["confidence"] == pytest.approx(math.exp(-0.05))  # an unsure definition is wording, not the type


def test_without_logprobs_the_confidence_is_the_models_rating():
    entities = [thing("Umpire", rating=0.25), thing("Mascot", rating=1), thing("Bat Boy", rating=1.5)]
    result = crafted(answer(entity_types=entities))
    result.token_logprobs = None
    read = read_answer(result, EXISTING, 10)["suggestions"]["entity_types"]
    assert [(s["confidence"], s["confidence_source"]) for s in read] == [
        (0.25, "model_rating"), (1.0, "model_rating"), (None, None)]  # 1.5: only a non-enforcing engine says that


def test_definitions_and_examples_are_passed_on_cleaned():
    entities = [{"name": "Umpire", "definition": "  calls plays ", "examples": ["plate umpire", " ", 7],
                 "confidence": 0.5}, {"name": "Mascot", "confidence": 0.5}]
    umpire, mascot = read_answer(crafted(answer(entity_types=entities)), EXISTING, 10)["suggestions"]["entity_types"]
    assert (umpire["definition"], umpire["examples"]) == ("calls plays", ["plate umpire"])
    assert (mascot["definition"], mascot["examples"]) == (None, None)  # not asked for


@pytest.mark.parametrize("data", [None, [], {}, {"types": []}, {"entity_types": "Umpire"},
                                  answer(entity_types=[{"name": ""}, {"name": "!!"}, 42, {"definition": "x"}],
                                         roles=[{"name": None}])])
def test_an_answer_with_nothing_usable_is_invalid(data):
    result = crafted(data)
    with pytest.raises(InvalidAnswer):
        read_answer(result, EXISTING, 10)


def test_an_answer_of_repeats_only_is_an_empty_answer():
    read = read_answer(crafted(answer(entity_types=[thing("player")], roles=[{"name": ""}])), EXISTING, 10)
    assert read["total_suggestions"] == 0 and read["dropped"]["duplicate"] == 1 and read["dropped"]["malformed"] == 1
    assert read_answer(crafted(answer()), EXISTING, 10)["total_suggestions"] == 0


def test_a_tiny_llama_answers_suggestions_that_read_back(tmp_path):
    """Random weights, real Llama classes, the grammar from the schema: valid JSON that reads back."""
    from runners.language.engines.transformers_engine import TransformersEngine
    from scripts.tiny_language_models import BUILDERS

    existing = {"entity_types": ["Player"], "event_types": ["Pitch"]}
    engine = TransformersEngine("tiny-llama", BUILDERS["llama"](str(tmp_path / "llama")), "cpu", vision=False)
    try:
        request = build_request("Scout", existing, domain_context=None, task_description=None, max_per_type=1,
                                temperature=0.0, include_definitions=False, include_examples=False,
                                max_new_tokens=1100)  # the tiny model's context is 2048 tokens
        result = engine.chat(request)
    finally:
        engine.close()
    assert schema_errors(result.data, request.json_schema) == [], result.text
    read = read_answer(result, existing, 1)
    suggested = [s for category in EXISTING for s in read["suggestions"][category]]
    assert read["total_suggestions"] == len(suggested) > 0
    assert all(s["confidence_source"] == "token_probability" and 0 < s["confidence"] <= 1 for s in suggested)
    entity_types = {"Player", *(s["name"] for s in read["suggestions"]["entity_types"])}
    assert all({r["source_type"], r["target_type"]} <= entity_types for r in read["suggestions"]["relationships"])
