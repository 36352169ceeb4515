"""Language model families: the config's `family` -> whether its models take images. Every family is served by the
same engines (runners/language/engines/); the family says whether frames go into the prompt. `config/models.yaml`
is checked against this table when the service starts."""

from __future__ import annotations

FAMILIES: dict[str, bool] = {  # family -> takes images
    "llama4": True,
    "gemma3": True,
    "internvl": True,
    "pixtral": True,
    "qwen2-5-vl": True,
    "llama": False,
    "deepseek-v3": False,
    "gemma3-text": False,
}
