from enum import StrEnum


class ConfidenceSource(StrEnum):
    MODEL_RATING = "model_rating"
    TOKEN_PROBABILITY = "token_probability"

    def __str__(self) -> str:
        return str(self.value)
