"""An optional API key: with `API_KEY` set, every route but the probes, metrics and docs needs
`Authorization: Bearer <key>`; anything else is answered 401 before the request reaches the service.

Without `API_KEY` (or with it empty) the middleware passes everything through: nothing changes. The probes
(`/health`, `/livez`, `/readyz`, `/healthz`), `/metrics` and the docs (`/`, `/docs.json`, `/schema.json`) stay open so
that orchestrators, Prometheus and client generators need no key; they carry no video and run no model. CORS
preflights (`OPTIONS` with `Access-Control-Request-Method`) pass too: browsers never send credentials with them.
Keys are compared in constant time. The 401 body is written here and wrapped by `ErrorEnvelopeMiddleware`
(registered before this one, so it runs outside it), which adds the request id.
"""

from __future__ import annotations

import hmac
import json
import logging
import os

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health", "/livez", "/readyz", "/healthz", "/metrics", "/", "/docs.json", "/schema.json"})
HINT = "send the header 'Authorization: Bearer <key>' with the key this service was started with (API_KEY)"


class ApiKeyMiddleware:
    """Raw ASGI. `api_key` defaults to the `API_KEY` environment variable, read when the worker builds its app."""

    def __init__(self, app, api_key: str | None = None) -> None:
        self.app = app
        key = (os.environ.get("API_KEY", "") if api_key is None else api_key).strip()
        self.key = key.encode() if key else None
        if self.key:
            log.info("API key required on every route but %s", ", ".join(sorted(OPEN_PATHS)))

    async def __call__(self, scope, receive, send):
        if self.key is None or scope["type"] not in ("http", "websocket") or self.is_open(scope):
            return await self.app(scope, receive, send)
        given = bearer_token(scope)
        if given is not None and hmac.compare_digest(given, self.key):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        message = (f"this route needs an API key: {HINT}" if given is None
                   else f"the API key is not valid: {HINT}")
        body = json.dumps({"error": "Unauthorized", "message": message, "details": {}}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="video-model-service"')]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def is_open(scope) -> bool:
        if scope["type"] != "http":
            return False
        if scope.get("method") == "OPTIONS" and any(k.lower() == b"access-control-request-method"
                                                    for k, _ in scope.get("headers") or []):
            return True  # a CORS preflight: the CORS middleware answers it
        return scope.get("path", "") in OPEN_PATHS and scope.get("method") in ("GET", "HEAD")


def bearer_token(scope) -> bytes | None:
    """The token of the first `Authorization: Bearer <token>` header (scheme case-insensitive), else None."""
    for key, value in scope.get("headers") or []:
        if key.lower() == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
            return None
    return None
