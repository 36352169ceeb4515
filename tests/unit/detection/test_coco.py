"""COCO's names, written out so the transformers detectors need no ultralytics, match ultralytics' own copy."""

from __future__ import annotations

from runners.core.ultralytics import import_ultralytics
from runners.detection.coco import COCO_NAMES


def test_coco_names_are_ultralytics_names_in_class_id_order():
    import_ultralytics()
    from ultralytics.utils import ROOT, YAML

    names = YAML.load(ROOT / "cfg" / "datasets" / "coco.yaml")["names"]
    assert list(COCO_NAMES) == [names[i] for i in sorted(names)] and len(COCO_NAMES) == 80
