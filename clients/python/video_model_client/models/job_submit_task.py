from enum import StrEnum


class JobSubmitTask(StrEnum):
    AUGMENT = "augment"
    DETECT = "detect"
    SUMMARIZE = "summarize"
    TRACK = "track"

    def __str__(self) -> str:
        return str(self.value)
