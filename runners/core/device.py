"""Which device a runner uses and how much memory it holds — the figures the pool budgets and /health reports."""

from __future__ import annotations

import gc
import os

import psutil

GB = 1024**3


def pick_device(setting: str = "auto") -> str:
    """`auto` is CUDA when a GPU is visible, else CPU. Torch is imported here, never at service start-up."""
    if setting == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if setting == "cuda":
        raise RuntimeError("inference.device is 'cuda' but no CUDA device is visible to this runner")
    return "cpu"


def memory_in_use(device: str) -> int:
    """CUDA bytes allocated on GPU; the process's resident set on CPU."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.memory_allocated())
    return psutil.Process(os.getpid()).memory_info().rss


def device_capacity(device: str) -> int:
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.get_device_properties(0).total_memory)
    return psutil.virtual_memory().total


def release_memory(device: str) -> None:
    """After dropping a model: collect it and hand cached blocks back (CUDA) or freed arenas back (glibc)."""
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    else:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:  # not glibc: the allocator keeps the pages, RSS stays higher
            pass


def cuda_memory_report() -> dict[str, int] | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return {"allocated": int(torch.cuda.memory_allocated()), "reserved": int(torch.cuda.memory_reserved())}


def format_bytes(n: int | None) -> str | None:
    return None if n is None else f"{n / GB:.1f} GB"
