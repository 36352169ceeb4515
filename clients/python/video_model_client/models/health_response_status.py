from enum import StrEnum


class HealthResponseStatus(StrEnum):
    DEGRADED = "degraded"
    HEALTHY = "healthy"

    def __str__(self) -> str:
        return str(self.value)
