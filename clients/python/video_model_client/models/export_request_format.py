from enum import StrEnum


class ExportRequestFormat(StrEnum):
    COCO = "coco"
    COCO_VIDEO = "coco-video"
    CVAT = "cvat"
    LABELSTUDIO = "labelstudio"
    MOT = "mot"

    def __str__(self) -> str:
        return str(self.value)
