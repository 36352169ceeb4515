from enum import StrEnum


class UnloadResponseStatus(StrEnum):
    NOT_LOADED = "not_loaded"
    UNLOADED = "unloaded"

    def __str__(self) -> str:
        return str(self.value)
