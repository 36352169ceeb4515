from enum import StrEnum


class RenderRequestFormat(StrEnum):
    MP4 = "mp4"
    PNG = "png"

    def __str__(self) -> str:
        return str(self.value)
