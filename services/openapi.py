"""The published API contract: BentoML's generated OpenAPI document, made fit for client generators.

BentoML describes a route's errors with its own exception schemas and names request bodies `...IODescriptor`; this
service answers every error with one envelope (services/errors.py). `publish` rewrites the document: the project's
name and version, readable schema names, operation ids that read as function names, and each route's error
statuses with the envelope's schema. BentoML has no hook for the document it serves at /docs.json and writes into a
Bento (apis/openapi.yaml), so `serve_published_contract` gives the service a subclass whose `openapi_spec` is the
published one.

`python scripts/export_openapi.py` writes it to openapi.json at the repository root (tests fail when they drift).
"""

from __future__ import annotations

import copy
import functools
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.schemas import ErrorResponse

if TYPE_CHECKING:
    import bentoml

REPO = Path(__file__).resolve().parent.parent
IO_SUFFIX = "IODescriptor"
ERROR_SCHEMA = "ErrorResponse"
# What each route can answer besides 200 (services/errors.py maps the runners' errors to these).
VIDEO_ERRORS = {"400": "invalid request (the message names the field)",
                "403": "the video is outside the media roots, or a URL / protocol string",
                "404": "no such video, or no such model",
                "413": "the request body is larger than the service accepts (8 MiB)",
                "415": "the body is not JSON (a form or a pickle): send Content-Type: application/json",
                "422": "the file is not a readable video",
                "429": "the service is handling its limit of requests at once (server.max_concurrency): retry after "
                       "the Retry-After seconds",
                "500": "a bug: the message and request_id help to report it",
                "503": "the model cannot be loaded or served now, or its runner process is restarting (the message "
                       "says why and what to do)",
                "504": "the request was not done within server.request_timeout_s and was stopped"}
EVERY_ROUTE = ("400", "413", "415", "429", "500", "503", "504")
ERRORS = {
    "/api/detect": VIDEO_ERRORS, "/api/track": VIDEO_ERRORS, "/api/summarize": VIDEO_ERRORS,
    "/api/augment": {k: VIDEO_ERRORS[k] for k in EVERY_ROUTE},
    "/models/load": {k: VIDEO_ERRORS[k] for k in sorted({*EVERY_ROUTE, "404"})},
    "/models/unload": {k: VIDEO_ERRORS[k] for k in sorted({*EVERY_ROUTE, "404"})},
}
JOB_UNKNOWN = {"404": "no job with this id"}
ERRORS.update({
    "/api/jobs": {**VIDEO_ERRORS, "429": "the queue holds jobs.max_queued jobs, or the service is at its limit of "
                                         "requests at once: retry after the Retry-After seconds"},
    "/api/jobs/{job_id}": JOB_UNKNOWN,
    "/api/jobs/{job_id}/result": {**JOB_UNKNOWN, "409": "the job has not succeeded (details.status says where it is)",
                                  "410": "the result was removed after jobs.retention_hours",
                                  "400": "format is not one of the formats, does not take this result, or the job is "
                                         "not a detect or track job"},
    "/api/jobs/{job_id}/events": JOB_UNKNOWN,
    "/api/render": VIDEO_ERRORS,
    "/api/jobs/{job_id}/preview.mp4": {**VIDEO_ERRORS, **JOB_UNKNOWN,
                                       "400": "the job is not a detect or track job, or its result has more frames "
                                              "than one preview renders",
                                       "409": "the job has not succeeded (details.status says where it is)",
                                       "410": "the result was removed after jobs.retention_hours"},
    "/api/export": {**{k: VIDEO_ERRORS[k] for k in EVERY_ROUTE},
                    "400": "invalid request: an unknown format, a result the format does not take (the message names "
                           "the formats that do), or a track result without its video"},
})
# Tags group the routes (a generated client's modules: video_model_client.api.tasks.detect, ...).
TAGS = {"/api/detect": "tasks", "/api/track": "tasks", "/api/summarize": "tasks", "/api/augment": "tasks",
        "/models/load": "models", "/models/unload": "models", "/models/info": "models", "/health": "health",
        **{route: "jobs" for route in ("/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/result",
                                       "/api/jobs/{job_id}/events")},
        "/api/export": "exports", "/api/render": "exports", "/api/jobs/{job_id}/preview.mp4": "jobs"}
TAG_DESCRIPTIONS = {"tasks": "detection, tracking, summarization, ontology suggestions",
                    "models": "which models exist, load and unload them", "health": "the service and its runners",
                    "jobs": "long work as jobs: submit, follow (events), cancel, fetch the result",
                    "exports": "results as the files annotation tools import (COCO, TAO, MOT, CVAT, Label Studio), and "
                               "pictures of them (MP4, PNG)",
                    "infrastructure": "probes and Prometheus metrics (BentoML's)"}
# BentoML's own error and task schemas, which no published route refers to once the envelope replaces them.
# FastAPI's validation error schemas: this API answers an invalid body with the envelope and 400 instead.
BENTOML_ONLY = ("InvalidArgument", "NotFound", "InternalServerError", "TaskStatusResponse", "HTTPValidationError",
                "ValidationError")
DESCRIPTION = ("Detect objects in chosen frames, track objects through frame ranges, summarize a video for an "
               "analyst, and suggest ontology types. Every error has one shape: {error, message, details} "
               "(details.request_id identifies the request).")


@functools.cache
def project_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def publish(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    spec["info"] = {"title": "Video model service", "version": project_version(), "description": DESCRIPTION}
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    renames = {name: name.removesuffix(IO_SUFFIX) for name in schemas if name.endswith(IO_SUFFIX)}
    for old, new in renames.items():
        schema = schemas.pop(old)
        schema["title"] = new
        schemas[new] = schema
    spec = _replace_refs(spec, {f"#/components/schemas/{o}": f"#/components/schemas/{n}" for o, n in renames.items()})
    schemas = spec["components"]["schemas"]
    schemas[ERROR_SCHEMA] = ErrorResponse.model_json_schema()
    spec["tags"] = [{"name": name, "description": text} for name, text in TAG_DESCRIPTIONS.items()]
    for route, path in spec["paths"].items():
        for operation in path.values():
            operation["tags"] = [TAGS.get(route, "infrastructure")]
            if "x-bentoml-name" in operation:  # a BentoML API: named after its method, errors as the envelope
                operation["operationId"] = operation["x-bentoml-name"]
                operation["requestBody"]["required"] = True
                for body in (operation["requestBody"], *operation["responses"].values()):
                    _refer_to_component(body, schemas)
                ok = operation["responses"].get(200) or operation["responses"]["200"]  # BentoML keys statuses as ints
                operation["responses"] = {"200": ok, **_error_responses(route)}
            elif route in ERRORS:  # a route of the mounted app: its errors are the envelope too, never FastAPI's 422
                answers = {k: v for k, v in operation["responses"].items() if str(k).startswith("2")}
                operation["responses"] = {**answers, **_error_responses(route)}
    for name in BENTOML_ONLY:
        schemas.pop(name, None)
    return _openapi_30_bounds(spec)


def _error_responses(route: str) -> dict[str, Any]:
    return {status: {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}}
        for status, description in ERRORS.get(route, {}).items()}


def _refer_to_component(body: dict, schemas: dict[str, Any]) -> None:
    """A body schema BentoML inlined (titled `<Model>IODescriptor`) becomes a reference to the model's component, so
    that generators make one class of it."""
    media = body.get("content", {}).get("application/json", {})
    name = media.get("schema", {}).get("title", "").removesuffix(IO_SUFFIX)
    if name in schemas:
        media["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _openapi_30_bounds(node: Any) -> Any:
    """pydantic writes JSON Schema 2020-12 bounds (`exclusiveMinimum: 0`); the document is OpenAPI 3.0, whose schemas
    spell them `minimum: 0, exclusiveMinimum: true` (JSON Schema draft 4). Tools that read the document as 3.0
    (schemathesis, validators) reject the numeric form, so it is rewritten."""
    if isinstance(node, list):
        return [_openapi_30_bounds(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _openapi_30_bounds(v) for k, v in node.items()}
    for exclusive, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        bound = node.get(exclusive)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool) and isinstance(node.get("type"), str):
            node[inclusive], node[exclusive] = bound, True
    return node


def _replace_refs(node: Any, refs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: refs.get(v, v) if k == "$ref" else _replace_refs(v, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_refs(v, refs) for v in node]
    return node


def serve_published_contract(service: bentoml.Service[Any]) -> None:
    """Make `service` (a bentoml.Service) serve and build with the published document."""
    from bentoml import Service
    from bentoml._internal.service.openapi.specification import OpenAPISpecification
    from bentoml._internal.utils.cattr import bentoml_cattr

    class PublishedContract(Service):  # the class @bentoml.service makes
        __slots__ = ()

        @property
        def openapi_spec(self) -> OpenAPISpecification:
            return bentoml_cattr.structure(publish(super().openapi_spec.asdict()), OpenAPISpecification)

    service.__class__ = PublishedContract
