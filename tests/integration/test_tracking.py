"""/api/track on a real `bentoml serve` of the demo: tracking quality of the trained YOLO11n-seg against the scripted
video's ground truth (MOTA/IDF1, occlusion filling, late entry, masks), request semantics, and the SAM-family
trackers' plumbing with the tiny random SAM 2.1."""

from __future__ import annotations

import json
import threading
import time

import httpx
import motmetrics as mm
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from services.schemas import TrackResponse
from tests.conftest import box_iou
from tests.integration.test_service import assert_envelope

pytestmark = pytest.mark.integration

MIN_VISIBLE = 0.3  # ground-truth objects less visible than this are "don't care" (as MOTChallenge ignores them)


@pytest.fixture(scope="module")
def tracking_video(demo_dir):
    return demo_dir / "media" / "tracking.mp4"


@pytest.fixture(scope="module")
def tracking_truth(tracking_video) -> dict:
    return json.loads(tracking_video.with_suffix(".json").read_text())


def track(client, video, **fields) -> httpx.Response:
    return client.post("/api/track", json={"video_path": str(video), **fields})


def xyxy(bbox: dict) -> list[float]:
    return [bbox["x"], bbox["y"], bbox["x"] + bbox["width"], bbox["y"] + bbox["height"]]


def mot_scores(truth: dict, tracks: list[dict], frames: range) -> dict:
    """MOTA and IDF1 (motmetrics) over `frames`, matching at IoU >= 0.5. A hypothesis on a barely visible truth
    object is neither a hit nor a false positive."""
    acc = mm.MOTAccumulator(auto_id=False)
    boxes_at: dict[int, list[tuple[int, list[float]]]] = {}
    for t in tracks:
        for b in t["boxes"]:
            boxes_at.setdefault(b["frame_number"], []).append((t["track_id"], xyxy(b["bbox"])))
    for n in frames:
        objects = truth["frames"][n]["objects"]
        gt = [o for o in objects if o["visible"] >= MIN_VISIBLE]
        hidden = [o for o in objects if o["visible"] < MIN_VISIBLE]
        hyp = [(i, b) for i, b in boxes_at.get(n, []) if not any(box_iou(b, o["bbox"]) >= 0.5 for o in hidden)]
        distances = [[1 - box_iou(o["bbox"], b) if box_iou(o["bbox"], b) >= 0.5 else np.nan for _, b in hyp]
                     for o in gt]
        acc.update([o["track_id"] for o in gt], [i for i, _ in hyp], distances, frameid=n)
    summary = mm.metrics.create().compute(acc, metrics=["mota", "idf1", "num_switches"], name="all")
    return {k: float(summary[k].iloc[0]) for k in ("mota", "idf1", "num_switches")}


@pytest.fixture(scope="module")
def seg_tracks(client, tracking_video, tracking_truth) -> dict:
    response = track(client, tracking_video, model="yolo11n-seg", frame_range={"start": 0, "end": 10_000},
                     confidence_threshold=0.5, max_gap_frames=30, include_masks=True)
    assert response.status_code == 200, response.text
    return TrackResponse.model_validate(response.json()).model_dump()


def test_yolo11n_seg_reaches_mota_and_idf1_of_0_8_on_the_scripted_video(seg_tracks, tracking_truth):
    frames = len(tracking_truth["frames"])
    assert seg_tracks["frames_processed"] == frames  # `end` past the video is clamped to its last frame
    assert seg_tracks["decimated"] is False and seg_tracks["total_tracks"] == len(seg_tracks["tracks"])
    assert [t["track_id"] for t in seg_tracks["tracks"]] == list(range(1, len(seg_tracks["tracks"]) + 1))
    scores = mot_scores(tracking_truth, seg_tracks["tracks"], range(frames))
    assert scores["mota"] >= 0.8, scores
    assert scores["idf1"] >= 0.8, scores


def test_the_occlusion_gap_is_filled_with_interpolated_boxes_near_the_truth(seg_tracks, tracking_truth):
    hidden = [(f["frame_number"], o["bbox"]) for f in tracking_truth["frames"] for o in f["objects"]
              if o["track_id"] == 3 and o["visible"] == 0 and o["bbox"][2] < tracking_truth["width"] - 1]
    assert len(hidden) >= 8  # the scripted full occlusion behind the bar
    filled = {b["frame_number"]: xyxy(b["bbox"]) for t in seg_tracks["tracks"] for b in t["boxes"]
              if b["interpolated"]}
    for frame_number, truth_box in hidden:
        assert frame_number in filled, f"no box at hidden frame {frame_number}"
        assert box_iou(filled[frame_number], truth_box) >= 0.5, (frame_number, filled[frame_number], truth_box)
    assert all(b["confidence"] is None for t in seg_tracks["tracks"] for b in t["boxes"] if b["interpolated"])


def test_an_object_entering_late_gets_its_own_track(seg_tracks, tracking_truth):
    entry = next(f["frame_number"] for f in tracking_truth["frames"]
                 if any(o["track_id"] == 4 and o["visible"] >= 0.5 for o in f["objects"]))
    truth_at = {f["frame_number"]: o["bbox"] for f in tracking_truth["frames"] for o in f["objects"]
                if o["track_id"] == 4}
    late = [t for t in seg_tracks["tracks"] if entry - 15 <= t["start_frame"] <= entry + 10
            and box_iou(xyxy(t["boxes"][0]["bbox"]), truth_at[t["start_frame"]]) >= 0.5]
    assert len(late) == 1 and late[0]["label"] == "circle"
    assert late[0]["end_frame"] == len(tracking_truth["frames"]) - 1  # followed to the end


def test_masks_are_coco_rle_at_frame_size_and_agree_with_their_box(seg_tracks, tracking_truth):
    height, width = tracking_truth["height"], tracking_truth["width"]
    checked = 0
    for t in seg_tracks["tracks"]:
        for b in t["boxes"][::10]:
            if b["interpolated"]:
                assert "mask" not in b or b["mask"] is None
                continue
            rle = b["mask"]
            mask = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)
            assert mask.shape == (height, width)
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            assert box_iou([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], xyxy(b["bbox"])) >= 0.7
            checked += 1
    assert checked >= 20


def test_decimation_reports_boxes_only_at_processed_frames(client, tracking_video):
    response = track(client, tracking_video, model="yolo11n-seg", frame_range={"start": 3, "end": 80}, decimation=5,
                     interpolation="none", confidence_threshold=0.5)
    body = TrackResponse.model_validate(response.json())
    assert body.decimated and body.decimation_factor == 5
    assert body.frames_processed == len(range(3, 81, 5))
    numbers = {b.frame_number for t in body.tracks for b in t.boxes}
    assert numbers and all((n - 3) % 5 == 0 and 3 <= n <= 80 for n in numbers)
    assert all(b.mask is None for t in body.tracks for b in t.boxes)  # include_masks defaults to false


def test_initial_detections_choose_which_objects_yolo11n_seg_follows(client, tracking_video, tracking_truth):
    square = next(o for o in tracking_truth["frames"][10]["objects"] if o["track_id"] == 2)
    x0, y0, x1, y1 = square["bbox"]
    response = track(client, tracking_video, model="yolo11n-seg", frame_range={"start": 10, "end": 40},
                     initial_detections=[{"bbox": {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0},
                                          "label": "my square"}], confidence_threshold=0.5)
    body = TrackResponse.model_validate(response.json())
    assert [(t.track_id, t.label, t.start_frame) for t in body.tracks] == [(1, "my square", 10)]
    truth = {f["frame_number"]: o["bbox"] for f in tracking_truth["frames"] for o in f["objects"] if o["track_id"] == 2}
    assert all(box_iou(xyxy(b.bbox.model_dump()), truth[b.frame_number]) >= 0.5 for b in body.tracks[0].boxes)


@pytest.mark.parametrize("model", ["sam2-1", "samurai", "sam2long"])
def test_sam_family_tracks_prompted_and_auto_detected_objects(client, tracking_video, tracking_truth, model):
    """Tiny random SAM 2.1: the boxes mean nothing, the plumbing does — prompts on two frames, re-detection with the
    trained detector, ids, bounds, masks."""
    height, width = tracking_truth["height"], tracking_truth["width"]
    first = [o for o in tracking_truth["frames"][0]["objects"] if o["visible"] == 1][:2]
    prompts = [{"bbox": {"x": o["bbox"][0], "y": o["bbox"][1], "width": o["bbox"][2] - o["bbox"][0],
                         "height": o["bbox"][3] - o["bbox"][1]}, "label": o["label"]} for o in first]
    prompts[1]["frame_number"] = 4
    response = track(client, tracking_video, model=model, frame_range={"start": 0, "end": 9},
                     initial_detections=prompts, include_masks=True)
    body = TrackResponse.model_validate(response.json())
    assert body.model_used == model and body.frames_processed == 10
    assert sorted((t.label, t.start_frame) for t in body.tracks) == sorted([(first[0]["label"], 0),
                                                                            (first[1]["label"], 4)])
    for t in body.tracks:
        assert [b.frame_number for b in t.boxes] == list(range(t.start_frame, 10))
        for b in t.boxes:
            assert 0 <= b.bbox.x and b.bbox.x + b.bbox.width <= width + 1e-6
            assert 0 <= b.bbox.y and b.bbox.y + b.bbox.height <= height + 1e-6
            assert 0 <= b.confidence <= 1 and b.mask.size == [height, width]

    auto = track(client, tracking_video, model=model, frame_range={"start": 0, "end": 5}, detection_model="yolo11n",
                 confidence_threshold=0.5)
    auto_body = TrackResponse.model_validate(auto.json())
    visible = [o for o in tracking_truth["frames"][0]["objects"] if o["visible"] == 1]
    assert auto_body.total_tracks == len(visible)  # one object per shape the trained detector found on frame 0


def test_redetection_starts_tracks_on_its_frames(client, tracking_video, tracking_truth):
    """Every 5th processed frame the detector runs again; its objects that match nothing followed start tracks there
    (the tiny SAM's masks cover the frame, so its boxes match no detection)."""
    square = next(o for o in tracking_truth["frames"][0]["objects"] if o["track_id"] == 2)
    x0, y0, x1, y1 = square["bbox"]
    response = track(client, tracking_video, model="samurai", frame_range={"start": 0, "end": 12}, decimation=2,
                     initial_detections=[{"bbox": {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0},
                                          "label": "square"}],
                     redetect_interval=3, detection_model="yolo11n", confidence_threshold=0.5)
    body = TrackResponse.model_validate(response.json())
    starts = sorted(t.start_frame for t in body.tracks)
    assert starts[0] == 0 and starts.count(0) == 1  # the prompt; no auto-detection when boxes are given
    assert set(starts[1:]) == {6, 12}  # processed frames 0, 2, ..., 12: detection at steps 3 and 6


def test_tracking_requests_that_cannot_be_served_get_clear_errors(client, tracking_video):
    base = {"frame_range": {"start": 0, "end": 10}}
    assert_envelope(track(client, tracking_video, **base, model="nope"), 400, "unknown video tracking model")
    assert_envelope(track(client, tracking_video, frame_range={"start": 500, "end": 600}), 400, "outside the video")
    assert_envelope(track(client, tracking_video, frame_range={"start": 5, "end": 5}), 400, "greater than")
    assert_envelope(track(client, tracking_video, **base, model="yolo11n-seg", text_prompt="a dog"), 400,
                    "fixed vocabulary")
    assert_envelope(track(client, tracking_video, **base, model="yolo11n-seg", classes=["dragon"]), 400,
                    "cannot detect dragon")
    late_prompt = [{"bbox": {"x": 1, "y": 1, "width": 9, "height": 9}, "label": "a", "frame_number": 50}]
    assert_envelope(track(client, tracking_video, **base, model="samurai", initial_detections=late_prompt), 400,
                    "outside frame_range")
    assert_envelope(track(client, tracking_video, **base, model="samurai", detection_model="nope"), 400,
                    "unknown object detection model")
    assert_envelope(track(client, tracking_video, **base, interpolation="quadratic"), 400, "interpolation")


def test_a_client_that_disconnects_stops_the_tracking_job(service, client, tracking_video):
    """/health answers during a long job and shows its progress; dropping the connection ends the job early."""
    def tracking_status():
        return client.get("/health").json()["runners"]["tracking"]

    assert client.post("/models/load", json={"model_id": "sam2long"}).status_code == 200
    cancelled_before = tracking_status()["jobs_cancelled"]
    boxes = [{"bbox": {"x": x, "y": 10, "width": 80, "height": 80}, "label": "a"} for x in (10, 200, 400)]
    body = {"video_path": str(tracking_video), "model": "sam2long", "frame_range": {"start": 0, "end": 139},
            "initial_detections": boxes, "include_masks": True}

    def doomed_request():
        try:  # 140 frames of 3 objects take several seconds: this client gives up long before
            httpx.post(f"{service['url']}/api/track", json=body, timeout=1.5)
        except httpx.TimeoutException:
            pass

    caller = threading.Thread(target=doomed_request)
    caller.start()
    progress = None
    for _ in range(300):
        jobs = tracking_status()["jobs"]
        if jobs:
            progress = next(iter(jobs.values()))
        elif progress is not None:
            break
        time.sleep(0.1)
    caller.join()
    assert progress is not None and progress["frames_total"] == 140 and progress["model"] == "sam2long"
    assert tracking_status()["jobs"] == {}
    assert tracking_status()["jobs_cancelled"] == cancelled_before + 1
    assert progress["frames_done"] < progress["frames_total"]
