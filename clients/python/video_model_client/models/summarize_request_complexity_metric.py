from enum import StrEnum


class SummarizeRequestComplexityMetric(StrEnum):
    ENTROPY = "entropy"
    GRADIENT = "gradient"
    MOTION = "motion"

    def __str__(self) -> str:
        return str(self.value)
