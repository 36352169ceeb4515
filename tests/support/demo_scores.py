"""The checks that rest on the demo's two trained models, as numbers: the request each test sends, the metric it
asserts on, and the threshold it asserts.

The demo's YOLO11n and YOLO11n-seg are trained on the machine that builds the demo; the trainings are seeded, but
another CPU rounds differently and trains other weights. So each threshold below sits under the worst of several
independent trainings, measured by `scripts/demo_spread.py` (its table is in README.md, "Tests": the rows are
named by the keys of THRESHOLDS), and each metric is an aggregate over many boxes, never "every box", so one odd
mask cannot fail the suite while a real regression (masks of another object, a broken RLE, a shifted box) still
does.
"""

from __future__ import annotations

import json
from statistics import median

import motmetrics as mm
import numpy as np
from pycocotools import mask as mask_utils

from runners.core.geometry import box_iou, mask_to_box

# metric -> the threshold its test asserts (>=): 0.10 under the worst of five trainings, rounded down to a multiple
# of 0.05 (README, "Tests", the spread table; scripts/demo_spread.py prints it)
THRESHOLDS = {
    "detect.recall": 0.65,  # share of the visible objects on 8 frames of shapes.mp4 found (label + IoU >= 0.5)
    "track.mota": 0.80,  # YOLO11n-seg + ByteTrack on tracking.mp4 against its ground truth
    "track.idf1": 0.75,
    "track.occlusion_filled": 0.90,  # share of the frames object 3 is hidden behind the bar filled on it
    "track.late_entry_coverage": 0.85,  # share of the late object's visible frames its one track covers
    "track.mask_agreement": 0.85,  # share of sampled (box, mask) pairs whose mask's box has IoU >= 0.7 with it
    "track.mask_iou_median": 0.80,  # median of those IoUs
    "track.prompted_iou": 0.90,  # share of the prompted square's boxes at IoU >= 0.5 with its truth
}

# metric -> the value its test asserts (==), the same in every training measured
EXPECTED = {
    "track.frame_offset": 0,  # boxes agree best with the truth of their own frame, not of a frame before or after
}

MIN_VISIBLE = 0.3  # ground-truth objects less visible than this are "don't care" (as MOTChallenge ignores them)
SAMPLE_FRAMES = [0, 40, 80, 120, 160, 200, 249, 3]


def xyxy(bbox: dict) -> list[float]:
    return [bbox["x"], bbox["y"], bbox["x"] + bbox["width"], bbox["y"] + bbox["height"]]


def xywh(box: list[float]) -> dict:
    return {"x": box[0], "y": box[1], "width": box[2] - box[0], "height": box[3] - box[1]}


# --- detection on shapes.mp4 ---------------------------------------------------------------------------------------

def detect_request(video, frames=SAMPLE_FRAMES, confidence_threshold: float = 0.4) -> dict:
    return {"video_path": str(video), "frame_numbers": list(frames), "model": "yolo11n",
            "confidence_threshold": confidence_threshold}


def detection_recall(frames: list[dict], truth: dict) -> float:
    """Share of the truth objects at least 80 % visible that a detection of the same label covers at IoU >= 0.5.
    `frames`: DetectResponse.detections (dicts)."""
    matched = total = 0
    for frame in frames:
        found = [(xyxy(o["bbox"]), o["label"]) for o in frame["objects"]]
        for obj in truth["frames"][frame["frame_number"]]["objects"]:
            if obj["visible"] < 0.8:  # mostly hidden behind another shape: not a fair target
                continue
            total += 1
            matched += any(label == obj["label"] and box_iou(box, obj["bbox"]) >= 0.5 for box, label in found)
    return matched / total if total else 0.0


# --- tracking on tracking.mp4 --------------------------------------------------------------------------------------

def track_request(video) -> dict:
    """The whole scripted video with masks: what the quality tests score."""
    return {"video_path": str(video), "model": "yolo11n-seg", "frame_range": {"start": 0, "end": 10_000},
            "confidence_threshold": 0.5, "max_gap_frames": 30, "include_masks": True}


def mot_scores(truth: dict, tracks: list[dict], frames: range) -> dict:
    """MOTA and IDF1 (motmetrics) over `frames`, matching at IoU >= 0.5. A hypothesis on a barely visible truth
    object is neither a hit nor a false positive."""
    hypotheses: dict[int, list[tuple[int, list[float]]]] = {}
    for t in tracks:
        for b in t["boxes"]:
            hypotheses.setdefault(b["frame_number"], []).append((t["track_id"], xyxy(b["bbox"])))
    visible, hidden = truth_by_frame(truth)
    return mot_scores_of(visible, hidden, hypotheses, frames)


def truth_by_frame(truth: dict) -> tuple[dict, dict]:
    """frame -> [(truth id, box)] of the objects visible enough to count, and of the barely visible ones."""
    visible: dict[int, list[tuple[int, list[float]]]] = {}
    hidden: dict[int, list[tuple[int, list[float]]]] = {}
    for frame in truth["frames"]:
        for o in frame["objects"]:
            (visible if o["visible"] >= MIN_VISIBLE else hidden).setdefault(frame["frame_number"], []).append(
                (o["track_id"], o["bbox"]))
    return visible, hidden


def mot_scores_of(visible: dict, hidden: dict, hypotheses: dict, frames: range) -> dict:
    """`mot_scores` over boxes by frame: frame -> [(id, [x0, y0, x1, y1])] for the truth objects that count, the
    barely visible ones, and the hypotheses."""
    acc = mm.MOTAccumulator(auto_id=False)
    for n in frames:
        gt = visible.get(n, [])
        hyp = [(i, b) for i, b in hypotheses.get(n, [])
               if not any(box_iou(b, h) >= 0.5 for _, h in hidden.get(n, []))]
        distances = [[1 - box_iou(g, b) if box_iou(g, b) >= 0.5 else np.nan for _, b in hyp] for _, g in gt]
        acc.update([i for i, _ in gt], [i for i, _ in hyp], distances, frameid=n)
    summary = mm.metrics.create().compute(acc, metrics=["mota", "idf1", "num_switches"], name="all")
    return {k: float(summary[k].iloc[0]) for k in ("mota", "idf1", "num_switches")}


def frame_offset(tracks: list[dict], truth: dict, shifts: range = range(-3, 4)) -> int:
    """The shift k for which the tracks' seen boxes agree best (mean IoU) with their objects' true boxes k frames
    later: 0 when each box is reported at the frame it was seen on. Each track stands for the object its boxes
    overlap most; objects under 50 % visible are left out."""
    truth_at = {(f["frame_number"], o["track_id"]): o["bbox"] for f in truth["frames"] for o in f["objects"]
                if o["visible"] >= 0.5}
    objects_at: dict[int, list[int]] = {}
    for frame, obj in truth_at:
        objects_at.setdefault(frame, []).append(obj)
    pairs = []  # (frame, object id, box)
    for t in tracks:
        seen = [(b["frame_number"], xyxy(b["bbox"])) for b in t["boxes"] if not b["interpolated"]]
        votes: dict[int, int] = {}
        for n, box in seen:
            for obj in objects_at.get(n, []):
                if box_iou(box, truth_at[(n, obj)]) >= 0.5:
                    votes[obj] = votes.get(obj, 0) + 1
        if votes:
            obj = max(votes, key=votes.__getitem__)
            pairs.extend((n, obj, box) for n, box in seen)

    def agreement(k: int) -> float:
        ious = [box_iou(box, truth_at[(n + k, obj)]) for n, obj, box in pairs if (n + k, obj) in truth_at]
        return sum(ious) / len(ious) if ious else 0.0

    return max(shifts, key=agreement)


def hidden_frames(truth: dict) -> list[tuple[int, list[float]]]:
    """(frame, truth box) while object 3 is fully hidden behind the striped bar (not while it leaves the frame)."""
    return [(f["frame_number"], o["bbox"]) for f in truth["frames"] for o in f["objects"]
            if o["track_id"] == 3 and o["visible"] == 0 and o["bbox"][2] < truth["width"] - 1]


def occlusion_filled(tracks: list[dict], truth: dict) -> float:
    """Share of the hidden frames at which an interpolated box lies on the hidden object: its centre inside the true
    box and IoU >= 0.3. (Not IoU >= 0.5: a gap is interpolated between the boxes of the object's visible parts as it
    goes behind the bar and comes out, narrower than the whole object, by how much depends on the training.)"""
    hidden = hidden_frames(truth)
    filled: dict[int, list[list[float]]] = {}
    for t in tracks:
        for b in t["boxes"]:
            if b["interpolated"]:
                filled.setdefault(b["frame_number"], []).append(xyxy(b["bbox"]))

    def on(box: list[float], truth_box: list[float]) -> bool:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        inside = truth_box[0] <= cx <= truth_box[2] and truth_box[1] <= cy <= truth_box[3]
        return inside and box_iou(box, truth_box) >= 0.3

    hits = sum(any(on(box, truth_box) for box in filled.get(n, [])) for n, truth_box in hidden)
    return hits / len(hidden) if hidden else 0.0


def late_entry(tracks: list[dict], truth: dict) -> dict:
    """The tracks that start on object 4 (it enters across the left border at frame 40) near its entry, and the
    share of its visible frames (>= 50 %) from its entry on that the first of them covers at IoU >= 0.5."""
    truth_at = {f["frame_number"]: o for f in truth["frames"] for o in f["objects"] if o["track_id"] == 4}
    entry = min(n for n, o in truth_at.items() if o["visible"] >= 0.5)
    late = [t for t in tracks if entry - 15 <= t["start_frame"] <= entry + 10
            and box_iou(xyxy(t["boxes"][0]["bbox"]), truth_at[t["start_frame"]]["bbox"]) >= 0.5]
    if not late:
        return {"tracks": [], "coverage": 0.0}
    boxes = {b["frame_number"]: xyxy(b["bbox"]) for b in late[0]["boxes"]}
    visible = [n for n, o in truth_at.items() if n >= entry and o["visible"] >= 0.5]
    covered = sum(n in boxes and box_iou(boxes[n], truth_at[n]["bbox"]) >= 0.5 for n in visible)
    return {"tracks": late, "coverage": covered / len(visible)}


def mask_box_ious(tracks: list[dict], height: int, width: int, every: int = 10) -> list[float]:
    """For every `every`-th box of each track that is not interpolated: the IoU of its mask's tight box with the
    box itself. Raises when a mask is missing or not a (height, width) COCO RLE."""
    ious = []
    for t in tracks:
        for b in t["boxes"][::every]:
            if b["interpolated"]:
                continue
            rle = b["mask"]
            mask = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)
            if mask.shape != (height, width):
                raise AssertionError(f"mask of {mask.shape}, frame is {(height, width)}")
            box = mask_to_box(mask)
            ious.append(box_iou(box, xyxy(b["bbox"])) if box is not None else 0.0)
    return ious


def mask_agreement(ious: list[float]) -> dict:
    return {"share": sum(iou >= 0.7 for iou in ious) / len(ious) if ious else 0.0,
            "median": median(ious) if ious else 0.0}


def prompted_request(video, truth: dict) -> dict:
    """Follow only the square (object 2), prompted on frame 10, through frames 10-40."""
    square = next(o for o in truth["frames"][10]["objects"] if o["track_id"] == 2)
    return {"video_path": str(video), "model": "yolo11n-seg", "frame_range": {"start": 10, "end": 40},
            "initial_detections": [{"bbox": xywh(square["bbox"]), "label": "my square"}],
            "confidence_threshold": 0.5}


def prompted_iou(track: dict, truth: dict) -> float:
    """Share of the prompted track's boxes that lie on the square (IoU >= 0.5)."""
    square = {f["frame_number"]: o["bbox"] for f in truth["frames"] for o in f["objects"] if o["track_id"] == 2}
    hits = [box_iou(xyxy(b["bbox"]), square[b["frame_number"]]) >= 0.5 for b in track["boxes"]]
    return sum(hits) / len(hits) if hits else 0.0


def all_scores(client, demo_dir) -> dict[str, float]:
    """Every metric of THRESHOLDS, measured through a running service (`client`: an httpx.Client on its URL)."""
    shapes = demo_dir / "media" / "shapes.mp4"
    tracking = demo_dir / "media" / "tracking.mp4"
    shapes_truth = json.loads(shapes.with_suffix(".json").read_text())
    truth = json.loads(tracking.with_suffix(".json").read_text())

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body)
        response.raise_for_status()
        return response.json()

    scores = {"detect.recall": detection_recall(post("/api/detect", detect_request(shapes))["detections"],
                                                shapes_truth)}
    tracks = post("/api/track", track_request(tracking))["tracks"]
    mot = mot_scores(truth, tracks, range(len(truth["frames"])))
    masks = mask_agreement(mask_box_ious(tracks, truth["height"], truth["width"]))
    prompted = post("/api/track", prompted_request(tracking, truth))["tracks"]
    scores.update({"track.mota": mot["mota"], "track.idf1": mot["idf1"],
                   "track.frame_offset": frame_offset(tracks, truth),
                   "track.occlusion_filled": occlusion_filled(tracks, truth),
                   "track.late_entry_coverage": late_entry(tracks, truth)["coverage"],
                   "track.mask_agreement": masks["share"], "track.mask_iou_median": masks["median"],
                   "track.prompted_iou": prompted_iou(prompted[0], truth) if len(prompted) == 1 else 0.0})
    return scores
