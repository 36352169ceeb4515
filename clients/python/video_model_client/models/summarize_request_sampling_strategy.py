from enum import StrEnum


class SummarizeRequestSamplingStrategy(StrEnum):
    ADAPTIVE = "adaptive"
    KEYFRAME = "keyframe"
    UNIFORM = "uniform"

    def __str__(self) -> str:
        return str(self.value)
