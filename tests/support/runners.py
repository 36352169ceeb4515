"""A runner service instantiated in this process (no `bentoml serve`) on a given configuration."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from runners.core.config import get_config


@contextmanager
def runner_in_process(target: str, config: Path) -> Iterator[Any]:
    """`target` ("package.module:Class") built with MODEL_CONFIG=`config`. The module is imported only once the
    variable is set, because a runner module reads its settings from the configuration at import."""
    patch = pytest.MonkeyPatch()
    patch.setenv("MODEL_CONFIG", str(config))
    get_config.cache_clear()
    module, name = target.split(":")
    instance = getattr(importlib.import_module(module), name)()
    try:
        yield instance
    finally:
        instance.shutdown()
        patch.undo()
        get_config.cache_clear()
