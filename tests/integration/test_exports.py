"""Exports against a real `bentoml serve`, each format read back by the field's reader: pycocotools for `coco` (and
COCOeval reproducing the demo build's mAP50 on the video) and `coco-video`, motmetrics for `mot` (MOTA from the two
files equal to the service's own figure), datumaro for `cvat`, label-studio-sdk for `labelstudio`; a job's result
exports to the same bytes as the route."""

from __future__ import annotations

import contextlib
import io
import json
import warnings
import xml.etree.ElementTree as ET

import motmetrics as mm
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tests.support.api import assert_envelope
from tests.support.demo_scores import MIN_VISIBLE, mot_scores, mot_scores_of, track_request
from tests.support.readers import read_export
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tracking_meta(tracking_video) -> dict:
    truth = json.loads(tracking_video.with_suffix(".json").read_text())
    return {"width": truth["width"], "height": truth["height"], "fps": truth["fps"],
            "frame_count": len(truth["frames"]), "name": tracking_video.name}


def exported(client, format: str, result: dict, video: dict | None = None) -> bytes:
    response = client.post("/api/export", json={"format": format, "result": result,
                                                 **({"video": video} if video else {})})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.content


def truth_as_detections(truth: dict, frame_count: int) -> dict:
    """The ground truth as a detect response (every object, confidence 1): exported by the same route."""
    frames = [{"frame_number": f["frame_number"], "timestamp": 0.0, "detection_count": len(f["objects"]),
               "objects": [{"bbox": xywh(o["bbox"]), "label": o["label"], "confidence": 1.0, "class_id": 0}
                           for o in f["objects"]]} for f in truth["frames"]]
    return {"detections": frames, "total_frames": len(frames), "total_detections": 0, "model_used": "truth",
            "inference_time_ms": 0, "video": {"width": truth["width"], "height": truth["height"],
                                              "fps": truth["fps"], "frame_count": frame_count}}


def truth_as_tracks(truth: dict) -> dict:
    """The ground truth as a track response: objects too hidden to count have confidence 0 (MOT's "ignore")."""
    boxes: dict[int, list] = {}
    labels = {}
    for f in truth["frames"]:
        for o in f["objects"]:
            labels[o["track_id"]] = o["label"]
            boxes.setdefault(o["track_id"], []).append(
                {"frame_number": f["frame_number"], "bbox": xywh(o["bbox"]),
                 "confidence": 1.0 if o["visible"] >= MIN_VISIBLE else 0.0})
    tracks = [{"track_id": i, "label": labels[i], "frame_count": len(b), "start_frame": b[0]["frame_number"],
               "end_frame": b[-1]["frame_number"], "boxes": b} for i, b in boxes.items()]
    return {"tracks": tracks, "total_tracks": len(tracks), "frames_processed": len(truth["frames"]),
            "model_used": "truth", "inference_time_ms": 0, "decimated": False, "decimation_factor": 1}


def xywh(box: list[float]) -> dict:
    return {"x": max(box[0], 0.0), "y": max(box[1], 0.0), "width": box[2] - max(box[0], 0.0),
            "height": box[3] - max(box[1], 0.0)}


def write(tmp_path, name: str, body: bytes):
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_coco_detections_of_the_demo_score_with_cocoeval_as_the_demo_build_measured(client, demo_dir, demo_video,
                                                                                    tmp_path):
    """COCOeval on a detect job's COCO export of every frame of shapes.mp4, against the video's ground truth exported
    by the same route, gives the mAP50 that ultralytics' own validator measured when the demo was built."""
    request = {"video_path": str(demo_video), "frame_range": {"start": 0, "end": 249}, "model": "yolo11n",
               "confidence_threshold": 0.001}  # as a validator scores: every box, ranked by confidence
    job = client.post("/api/jobs", json={"task": "detect", "request": request}).json()
    wait_for(lambda: client.get(f"/api/jobs/{job['job_id']}").json()["status"] == "succeeded")
    response = client.get(f"/api/jobs/{job['job_id']}/result", params={"format": "coco"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    predicted = json.loads(response.content)
    truth = json.loads(demo_video.with_suffix(".json").read_text())
    gt = COCO(str(write(tmp_path, "truth.json", exported(client, "coco", truth_as_detections(truth,
                                                                                             len(truth["frames"]))))))
    assert len(predicted["images"]) == len(gt.getImgIds()) == 250
    by_name = {c["name"]: c["id"] for c in gt.loadCats(gt.getCatIds())}
    names = {c["id"]: c["name"] for c in predicted["categories"]}
    results = [{**a, "category_id": by_name[names[a["category_id"]]]} for a in predicted["annotations"]
               if names[a["category_id"]] in by_name]  # a class the truth never has cannot be scored
    with contextlib.redirect_stdout(io.StringIO()):
        scored = COCOeval(gt, gt.loadRes(results), "bbox")
        scored.evaluate()
        scored.accumulate()
        scored.summarize()
    built = json.loads((demo_dir / "metrics.json").read_text())["video"]["map50"]
    assert abs(scored.stats[1] - built) <= 0.02, (scored.stats[1], built)


def test_coco_video_tracks_with_masks_read_back_with_pycocotools(client, tracked, tracking_meta, tmp_path):
    data = COCO(str(write(tmp_path, "tracks.json", exported(client, "coco-video", tracked, tracking_meta))))
    body = json.loads((tmp_path / "tracks.json").read_text())
    assert [t["id"] for t in body["tracks"]] == [t["track_id"] for t in tracked["tracks"]]
    assert body["videos"][0]["name"] == "tracking.mp4" and body["videos"][0]["length"] == 140
    for track in tracked["tracks"]:
        annotations = [a for a in data.loadAnns(data.getAnnIds()) if a["track_id"] == track["track_id"]]
        assert [data.imgs[a["image_id"]]["frame_index"] for a in annotations] == [
            b["frame_number"] for b in track["boxes"]]
        with_mask = next(a for a in annotations if "segmentation" in a)
        box = next(b for b in track["boxes"] if b["frame_number"] == data.imgs[with_mask["image_id"]]["frame_index"])
        assert np.array_equal(data.annToMask(with_mask),
                              mask_utils.decode({"size": box["mask"]["size"], "counts": box["mask"]["counts"]}))


def test_mot_tracks_read_back_with_motmetrics_give_the_services_mota(client, tracked, tracking_meta, tracking_video,
                                                                      tmp_path):
    truth = json.loads(tracking_video.with_suffix(".json").read_text())
    with warnings.catch_warnings():  # motmetrics' own pandas idiom
        warnings.simplefilter("ignore")
        hypotheses = mm.io.loadtxt(str(write(tmp_path, "tracks.txt", exported(client, "mot", tracked,
                                                                               tracking_meta))), fmt="mot15-2D")
        gt = mm.io.loadtxt(str(write(tmp_path, "gt.txt", exported(client, "mot", truth_as_tracks(truth),
                                                                   tracking_meta))), fmt="mot15-2D")

    def by_frame(frame, keep=lambda row: True) -> dict:
        boxes: dict[int, list] = {}
        for (frame_id, object_id), row in frame.iterrows():
            if keep(row):
                boxes.setdefault(int(frame_id) - 1, []).append(  # MOT frames are 1-based
                    (int(object_id), [row.X, row.Y, row.X + row.Width, row.Y + row.Height]))
        return boxes

    frames = range(len(truth["frames"]))
    from_files = mot_scores_of(by_frame(gt, lambda row: row.Confidence > 0),
                               by_frame(gt, lambda row: row.Confidence == 0), by_frame(hypotheses), frames)
    service = mot_scores(truth, tracked["tracks"], frames)
    assert abs(from_files["mota"] - service["mota"]) <= 0.01 and abs(from_files["idf1"] - service["idf1"]) <= 0.01


def test_cvat_and_labelstudio_files_of_a_track_result_read_back_by_their_readers(client, tracked, tracking_meta,
                                                                                  tmp_path):
    cvat = write(tmp_path, "annotations.xml", exported(client, "cvat", tracked, tracking_meta))
    read = read_export("cvat", cvat)  # datumaro's CVAT importer
    expected = sorted((b["frame_number"], t["label"], not b["interpolated"]) for t in tracked["tracks"]
                      for b in t["boxes"])
    assert sorted((b["frame"], b["label"], b["keyframe"]) for b in read["boxes"] if not b["outside"]) == expected
    assert ET.parse(cvat).getroot().findtext("meta/task/size") == "140"

    tasks = write(tmp_path, "tasks.json", exported(client, "labelstudio", tracked, tracking_meta))
    config = tmp_path / "config.xml"
    labels = "".join(f'<Label value="{label}"/>' for label in sorted({t["label"] for t in tracked["tracks"]}))
    config.write_text(f'<View><Labels name="label" toName="video">{labels}</Labels>'
                      '<Video name="video" value="$video" framerate="25"/>'
                      '<VideoRectangle name="box" toName="video"/></View>')  # the README's config
    assert read_export("labelstudio", tasks, config)["errors"] == [[]]
    [task] = json.loads(tasks.read_text())
    regions = task["predictions"][0]["result"]
    assert task["data"]["video"] == "tracking.mp4" and len(regions) == tracked["total_tracks"]
    for region, track in zip(regions, tracked["tracks"]):
        assert [item["frame"] - 1 for item in region["value"]["sequence"]] == [
            b["frame_number"] for b in track["boxes"] if not b["interpolated"]]


def test_a_jobs_result_exports_to_the_routes_bytes(client, tracking_video, tracked, tracking_meta):
    job = client.post("/api/jobs", json={"task": "track", "request": track_request(tracking_video)}).json()

    def done():
        """the track job succeeded"""
        return client.get(f"/api/jobs/{job['job_id']}").json()["status"] == "succeeded"
    wait_for(done)
    for format in ("mot", "cvat", "coco-video"):
        response = client.get(f"/api/jobs/{job['job_id']}/result", params={"format": format})
        assert response.status_code == 200, response.text
        assert response.content == exported(client, format, tracked, tracking_meta), format
    assert response.headers["content-type"].startswith("application/json")
    assert_envelope(client.get(f"/api/jobs/{job['job_id']}/result", params={"format": "yolo"}), 400)


@pytest.mark.parametrize("format, result, status, words", [
    ("yolo", "tracks", 400, "coco"),
    ("mot", "detections", 400, "coco, cvat, labelstudio"),
    ("coco-video", "detections", 400, "coco, cvat, labelstudio"),
    ("mot", "tracks without video", 400, "video"),
])
def test_exports_that_cannot_be_made_are_refused_saying_why(client, demo_video, tracked, tracking_meta, format,
                                                             result, status, words):
    detected = client.post("/api/detect", json={"video_path": str(demo_video), "frame_numbers": [0],
                                                 "model": "yolo11n"}).json()
    body = {"format": format, "result": detected if result == "detections" else tracked}
    if result == "tracks":
        body["video"] = tracking_meta
    response = client.post("/api/export", json=body)
    assert_envelope(response, status)
    assert words in response.json()["message"], response.json()


def test_a_video_name_of_any_characters_names_the_file(client, tracked, tracking_meta):
    """The name is the caller's text (the fuzzer found a 500 with a CJK one): the header keeps ASCII, the UTF-8
    name beside it."""
    response = client.post("/api/export", json={"format": "labelstudio", "result": tracked,
                                                 "video": {**tracking_meta, "name": 'ŵalk\u902a "a"\n.mp4'}})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"_alk_ _a__-tracks-labelstudio.json\"; "
        "filename*=UTF-8''%C5%B5alk%E9%80%AA%20%22a%22%0A-tracks-labelstudio.json")
