"""Reads an export with the field's own reader and prints what it read as JSON (run in the readers' environment,
scripts/install_readers.sh; tests/support/readers.py calls it).

    read_export.py cvat FILE                  datumaro's CVAT importer: every box it imported, by frame
    read_export.py labelstudio FILE CONFIG    label-studio-sdk: each prediction checked against the labeling config
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def cvat(path: str) -> dict:
    import datumaro as dm

    dataset = dm.Dataset.import_from(path, "cvat")
    labels = dataset.categories()[dm.AnnotationType.label]
    boxes = [{"frame": item.attributes["frame"], "label": labels[a.label].name, "box": [round(v, 2) for v in a.points],
              "track_id": a.attributes.get("track_id"), "keyframe": a.attributes.get("keyframe"),
              "outside": a.attributes.get("outside")}
             for item in dataset for a in item.annotations if a.type == dm.AnnotationType.bbox]
    return {"labels": [label.name for label in labels], "boxes": sorted(boxes, key=lambda b: (b["frame"],
                                                                                             b["track_id"] or 0))}


def labelstudio(path: str, config: str) -> dict:
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface(Path(config).read_text())
    tasks = json.loads(Path(path).read_text())
    return {"errors": [interface.validate_prediction(p, return_errors=True) for t in tasks for p in t["predictions"]],
            "data": [sorted(t["data"]) for t in tasks]}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    print(json.dumps({"cvat": cvat, "labelstudio": labelstudio}[kind](*args)))
