"""Errors that carry their HTTP meaning from wherever they are raised (media, pool, backends) to the envelope.

They are plain Python exceptions so that backends stay free of BentoML; the runners and the public service turn them
into the single error envelope `{"error", "message", "details"}` with the status given here.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.title, "message": self.message, "details": self.details}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceError:
        """Rebuild an error that crossed a process boundary (runner → service) as the class with its status."""
        for klass in _all_subclasses(ServiceError):
            if klass.status == data.get("status") and klass.title == data.get("error"):
                return klass(data.get("message", ""), **(data.get("details") or {}))
        error = ServiceError(data.get("message", ""), **(data.get("details") or {}))
        error.status, error.title = int(data.get("status", 500)), str(data.get("error", cls.title))
        return error


def _all_subclasses(klass: type[ServiceError]) -> list[type[ServiceError]]:
    found: list[type[ServiceError]] = []
    for sub in klass.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


class BadRequest(ServiceError):
    status, title = 400, "Validation Error"


class Forbidden(ServiceError):
    status, title = 403, "Forbidden"


class NotFound(ServiceError):
    status, title = 404, "Not Found"


class Conflict(ServiceError):
    """The resource is not in a state that allows this yet (a job's result before it succeeded)."""
    status, title = 409, "Conflict"


class Gone(ServiceError):
    status, title = 410, "Gone"


class TooManyRequests(ServiceError):
    """A queue is full: details carry `retry_after_s`, sent as the Retry-After header."""
    status, title = 429, "Too Many Requests"


class UndecodableVideo(ServiceError):
    status, title = 422, "Unprocessable Video"


class ModelUnavailable(ServiceError):
    status, title = 503, "Model Unavailable"


class TaskUnavailable(ServiceError):
    status, title = 503, "Task Unavailable"


class RunnerUnavailable(ServiceError):
    """A runner process stopped answering (it died and BentoML is restarting it) or is busy."""
    status, title = 503, "Runner Unavailable"


class Cancelled(Exception):
    """The client went away: the job stopped early (not an error anyone receives)."""
