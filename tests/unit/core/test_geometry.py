"""Reading COCO RLE strings without pycocotools' C code, which crashes the process on a malformed one."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from runners.core.geometry import encode_rle, rle_runs


@pytest.mark.parametrize("seed", range(20))
def test_runs_of_an_encoded_mask_give_pycocotools_area(seed):
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(1, 80, 2))
    mask = rng.random((height, width)) < rng.random()
    if seed % 2:  # large runs: multi-character numbers
        mask = np.zeros((height, width), dtype=bool)
        mask[rng.integers(0, height):, rng.integers(0, width):] = True
    rle = encode_rle(mask)
    runs = rle_runs(rle["counts"], height, width)
    assert sum(runs) == height * width
    assert sum(runs[1::2]) == int(mask.sum()) == int(mask_utils.area({**rle, "counts": rle["counts"].encode()}))


@pytest.mark.parametrize("counts, words", [
    ("é", "not a character"),
    ("\x00", "not a character"),
    ("0" * 3 + "p", "not a character"),
    ("h", "ends inside a number"),  # a continuation bit with nothing after it
    ("05", "covers 5 pixels, not 2 x 2"),
    ("11@", "negative run"),
])
def test_strings_that_are_not_an_rle_of_the_size_are_refused(counts, words):
    with pytest.raises(ValueError, match=words):
        rle_runs(counts, 2, 2)
