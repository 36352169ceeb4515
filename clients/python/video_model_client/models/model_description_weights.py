from enum import StrEnum


class ModelDescriptionWeights(StrEnum):
    DEMO_TRAINED = "demo-trained"
    PRETRAINED = "pretrained"
    RANDOM = "random"

    def __str__(self) -> str:
        return str(self.value)
