"""One error envelope for every 4xx/5xx: `{"error", "message", "details"}`, with the request id in `details`.

BentoML answers validation failures, its own exceptions and unknown routes with bodies of other shapes (a dict with
`detail`, a one-element list, FastAPI's `{"detail": ...}`), produced inside its endpoint wrapper where exception
handlers never see them. So the envelope is made by a raw ASGI middleware that rewrites any error body on the way out,
and the middleware also refuses bodies over the size limit with 413 before they are read, and bodies BentoML would
parse as a form or a pickle with 415 (every body of this API is JSON; a multipart type without a boundary made
Starlette raise inside BentoML's wrapper, a 500).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import JSONResponse

from runners.core.errors import BadRequest, ServiceError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
# Media types BentoML reads as something other than JSON (_bentoml_impl/serde.py ALL_SERDE); any other type is parsed
# as JSON, as is a body without one.
NOT_JSON = frozenset({b"multipart/form-data", b"application/x-www-form-urlencoded", b"application/vnd.bentoml+pickle"})
TITLES = {400: "Validation Error", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
          415: "Unsupported Media Type",
          422: "Unprocessable Video", 429: "Too Many Requests", 500: "Internal Server Error",
          503: "Service Unavailable", 504: "Gateway Timeout"}


def error_response(error: ServiceError) -> JSONResponse:
    retry = error.details.get("retry_after_s")
    return JSONResponse({"error": error.title, "message": error.message, "details": error.details},
                        status_code=error.status, headers={"Retry-After": str(int(retry))} if retry else None)


def raise_if_error(reply_error: dict[str, Any] | None) -> None:
    """A runner reply that carries an error becomes the same exception here, with its status."""
    if reply_error:
        raise ServiceError.from_dict(reply_error)


def pydantic_message(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    first = errors[0]
    loc = [str(p) for p in first.get("loc", []) if p not in ("body",)]
    field = ".".join(loc) or None
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return (f"{field}: {message}" if field else message), field


def envelope(status: int, body: bytes, request_id: str, route: str = "") -> dict[str, Any]:
    """Rewrite whatever error body BentoML, Starlette or our code produced into the envelope."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = body.decode("utf-8", "replace")[:500] if body else None
    title = TITLES.get(status, "Error")
    details: dict[str, Any] = {}
    if isinstance(data, dict) and {"error", "message"} <= data.keys():  # already ours
        title, message, details = data["error"], data["message"], dict(data.get("details") or {})
    elif isinstance(data, dict) and isinstance(data.get("detail"), list) and data["detail"]:  # pydantic errors
        message, field = pydantic_message(data["detail"])
        details = {"errors": data["detail"], **({"field": field} if field else {})}
        if status == 422:  # FastAPI's validation status: this API says 400 for an invalid body
            status = 400
    elif isinstance(data, dict) and "detail" in data:  # Starlette / FastAPI HTTPException
        message = str(data["detail"])
    elif isinstance(data, list) and data and isinstance(data[0], dict):  # BentoMLException below 500
        message = str(data[0].get("error", data[0]))
    elif isinstance(data, dict) and "error" in data:
        message = str(data["error"])
    else:
        message = str(data) if data else title
    if status in (404, 405) and message in (TITLES[status], title) and route:
        message = f"no route {route}" if status == 404 else f"{route} is not allowed; see /docs for the routes"
    if status >= 500 and title == TITLES[500]:
        message = f"an unexpected error occurred; report it with request id {request_id}"
    details["request_id"] = request_id
    return {"status": status, "body": {"error": title, "message": message, "details": details}}


class ErrorEnvelopeMiddleware:
    """Raw ASGI: buffers responses with status >= 400 and rewrites their JSON body; refuses oversized bodies."""

    def __init__(self, app, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        request_id = (headers.get(b"x-request-id") or b"").decode("latin-1")[:100] or uuid.uuid4().hex
        refusal = self._refusal(headers, scope.get("method"), request_id)
        if refusal is not None:
            return await self._send_json(send, *refusal)

        exchange = _Exchange(self, scope, send, receive, request_id)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except BadRequest:
            if exchange.start is None:
                await self._send_json(send, 413, exchange.too_large())

    def _refusal(self, headers: dict, method: str | None, request_id: str) -> tuple[int, dict] | None:
        """(status, body) for a request refused before it is read: a declared body over the limit, or not JSON."""
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return 413, {"error": "Payload Too Large", "message": f"request body exceeds {self.max_body_bytes} bytes",
                         "details": {"limit_bytes": self.max_body_bytes, "request_id": request_id}}
        media_type = (headers.get(b"content-type") or b"").split(b";")[0].strip().lower()
        if method == "POST" and media_type in NOT_JSON:
            return 415, {"error": TITLES[415], "message": f"request bodies are JSON: send Content-Type: "
                                                          f"application/json, not {media_type.decode('latin-1')}",
                         "details": {"content_type": media_type.decode("latin-1"), "request_id": request_id}}
        return None

    @staticmethod
    async def _send_json(send, status: int, body: dict, headers: list | None = None) -> None:
        payload = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            *(headers or []), (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())
        ]})
        await send({"type": "http.response.body", "body": payload})


class _Exchange:
    """One request through ErrorEnvelopeMiddleware: its body read under the size limit, its error answer held back
    and rewritten as the envelope."""

    def __init__(self, middleware: ErrorEnvelopeMiddleware, scope, send, receive, request_id: str) -> None:
        self.middleware, self.scope, self._send, self._receive = middleware, scope, send, receive
        self.request_id = request_id
        self.received = 0
        self.oversized = False
        self.start: dict | None = None  # the held-back start of an error answer
        self.chunks: list[bytes] = []

    def too_large(self) -> dict:
        limit = self.middleware.max_body_bytes
        return {"error": TITLES[413], "message": f"request body exceeds {limit} bytes",
                "details": {"limit_bytes": limit, "request_id": self.request_id}}

    async def receive(self):
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.middleware.max_body_bytes:  # chunked body without a length: stop reading it
                self.oversized = True
                raise BadRequest(self.too_large()["message"])
        return message

    async def send(self, message):
        if message["type"] == "http.response.start":
            for key, value in message.get("headers", []):
                if key.lower() == b"x-bentoml-request-id":
                    self.request_id = value.decode("latin-1")
            if message["status"] < 400:
                await self._send(message)
            else:
                self.start = message
            return
        if self.start is None:
            return await self._send(message)
        self.chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            await self._answer_error(self.start)

    async def _answer_error(self, start: dict) -> None:
        rewritten: dict[str, Any]
        if self.oversized:  # BentoML's endpoint wrapper caught the refusal in its body reader and answered 500
            rewritten = {"status": 413, "body": self.too_large()}
        else:
            rewritten = envelope(start["status"], b"".join(self.chunks), self.request_id,
                                 f"{self.scope.get('method', '')} {self.scope.get('path', '')}")
        passthrough = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length",
                                                                                       b"content-type")]
        await self.middleware._send_json(self._send, rewritten["status"], rewritten["body"], passthrough)
