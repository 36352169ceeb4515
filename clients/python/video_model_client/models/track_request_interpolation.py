from enum import StrEnum


class TrackRequestInterpolation(StrEnum):
    CUBIC = "cubic"
    LINEAR = "linear"
    NONE = "none"

    def __str__(self) -> str:
        return str(self.value)
