"""Each export format read back by the field's own reader: pycocotools for `coco` and `coco-video`, motmetrics for
`mot`, datumaro's CVAT importer for `cvat`, label-studio-sdk for `labelstudio` (the last two in an environment of
their own: scripts/install_readers.sh, tests/readers)."""

from __future__ import annotations

import json
import warnings
import xml.etree.ElementTree as ET

import motmetrics as mm
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from runners.core.errors import BadRequest
from services.exports import FORMATS, export
from services.schemas import DetectResponse, ExportVideo, TrackResponse
from tests.support.readers import read_export

VIDEO = ExportVideo(width=200, height=100, fps=25.0, frame_count=50, name="clip.mp4")


def rle(box: list[int]) -> dict:
    mask = np.zeros((100, 200), dtype=np.uint8, order="F")
    mask[box[1]:box[3], box[0]:box[2]] = 1
    encoded = mask_utils.encode(mask)
    return {"size": encoded["size"], "counts": encoded["counts"].decode()}


def detections() -> DetectResponse:
    def obj(x, y, w, h, label, confidence):
        return {"bbox": {"x": x, "y": y, "width": w, "height": h}, "label": label, "confidence": confidence,
                "class_id": 0}
    return DetectResponse.model_validate({
        "detections": [
            {"frame_number": 3, "timestamp": 0.12, "detection_count": 2,
             "objects": [obj(10, 10, 20, 20, "circle", 0.9), obj(190, 50, 30, 20, "square", 0.8)]},  # runs off
            {"frame_number": 7, "timestamp": 0.28, "detection_count": 0, "objects": []},
            {"frame_number": 9, "timestamp": 0.36, "detection_count": 1, "objects": [obj(5, 5, 10, 10, "square", 0.7)]},
        ],
        "total_frames": 3, "total_detections": 3, "model_used": "yolo11n", "inference_time_ms": 5,
        "video": {"width": 200, "height": 100, "fps": 25.0, "frame_count": 50}})


def tracks() -> TrackResponse:
    def box(n, x, confidence=0.9, interpolated=False):
        return {"frame_number": n, "bbox": {"x": x, "y": 20, "width": 20, "height": 20},
                "confidence": None if interpolated else confidence, "interpolated": interpolated,
                "mask": None if interpolated else rle([int(x), 20, int(x) + 20, 40])}
    return TrackResponse.model_validate({
        "tracks": [
            {"track_id": 1, "label": "car", "frame_count": 4, "start_frame": 0, "end_frame": 3,
             "boxes": [box(0, 10), box(1, 12), box(2, 14, interpolated=True), box(3, 16)]},
            {"track_id": 2, "label": "person", "frame_count": 2, "start_frame": 2, "end_frame": 3,
             "boxes": [box(2, 100, 0.6), box(3, 102, 0.65)]},
        ],
        "total_tracks": 2, "frames_processed": 4, "model_used": "yolo11n-seg", "inference_time_ms": 5,
        "decimated": False, "decimation_factor": 1})


def read_coco(tmp_path, body: bytes) -> COCO:
    path = tmp_path / "coco.json"
    path.write_bytes(body)
    return COCO(str(path))


def test_coco_detections_read_back_with_pycocotools(tmp_path):
    exported = export("coco", detections(), VIDEO)
    assert exported.content_type == "application/json" and exported.filename == "clip-detections-coco.json"
    data = read_coco(tmp_path, exported.body)
    assert [c["name"] for c in data.loadCats(data.getCatIds())] == ["circle", "square"]  # order of first appearance
    assert sorted(data.getImgIds()) == [4, 8, 10]  # every frame of the result, frames with nothing too
    assert data.imgs[4]["file_name"] == "frame_000003.jpg" and data.imgs[4]["width"] == 200
    clipped = data.loadAnns(data.getAnnIds(imgIds=[4], catIds=[2]))[0]
    assert clipped["bbox"] == [190.0, 50.0, 10.0, 20.0] and clipped["score"] == 0.8  # cut at the frame's edge
    assert len(data.getAnnIds()) == 3 and data.getAnnIds(imgIds=[8]) == []


def test_coco_tracks_with_masks_read_back_with_pycocotools(tmp_path):
    data = read_coco(tmp_path, export("coco", tracks(), VIDEO).body)
    annotations = data.loadAnns(data.getAnnIds())
    assert len(annotations) == 6
    seen = data.loadAnns(data.getAnnIds(imgIds=[1]))[0]
    assert data.annToMask(seen).sum() == 400 and seen["area"] == 400.0  # the RLE mask decodes to its 20x20 box
    interpolated = [a for a in annotations if a["attributes"]["keyframe"] is False]
    assert len(interpolated) == 1 and "score" not in interpolated[0] and "segmentation" not in interpolated[0]
    assert {a["attributes"]["track_id"] for a in annotations} == {1, 2}


def test_coco_video_tracks_read_back_with_pycocotools(tmp_path):
    raw = export("coco-video", tracks(), VIDEO).body
    data = read_coco(tmp_path, raw)
    body = json.loads(raw)
    assert body["videos"] == [{"id": 1, "name": "clip.mp4", "width": 200, "height": 100, "fps": 25.0, "length": 50}]
    assert body["tracks"] == [{"id": 1, "category_id": 1, "video_id": 1}, {"id": 2, "category_id": 2, "video_id": 1}]
    assert [(img["frame_index"], img["video_id"]) for img in data.loadImgs(sorted(data.getImgIds()))] == [
        (0, 1), (1, 1), (2, 1), (3, 1)]
    per_track = {}
    for a in data.loadAnns(data.getAnnIds()):
        per_track.setdefault(a["track_id"], []).append(data.imgs[a["image_id"]]["frame_index"])
    assert per_track == {1: [0, 1, 2, 3], 2: [2, 3]}


def test_mot_tracks_read_back_with_motmetrics(tmp_path):
    exported = export("mot", tracks(), VIDEO)
    assert exported.content_type == "text/csv"
    path = tmp_path / "tracks.txt"
    path.write_bytes(exported.body)
    with warnings.catch_warnings():  # motmetrics' own pandas idiom
        warnings.simplefilter("ignore")
        frame = mm.io.loadtxt(str(path), fmt="mot15-2D")
    assert sorted(frame.index.get_level_values("FrameId").unique()) == [1, 2, 3, 4]  # 1-based
    row = frame.loc[(1, 1)]
    assert (row["X"], row["Y"], row["Width"], row["Height"], row["Confidence"]) == (10.0, 20.0, 20.0, 20.0, 0.9)
    assert frame.loc[(3, 1)]["Confidence"] == -1  # interpolated: MOT's "no score"
    assert exported.body.decode().splitlines()[0] == "1,1,11.00,21.00,20.00,20.00,0.9000,-1,-1,-1"  # 1-based pixels


def test_cvat_tracks_have_keyframes_and_a_closing_outside_box():
    root = ET.fromstring(export("cvat", tracks(), VIDEO).body)
    assert root.findtext("version") == "1.1"
    assert [label.findtext("name") for label in root.iter("label")] == ["car", "person"]
    car = root.find("track[@label='car']")
    boxes = [(b.get("frame"), b.get("keyframe"), b.get("outside")) for b in car.iter("box")]
    assert boxes == [("0", "1", "0"), ("1", "1", "0"), ("2", "0", "0"), ("3", "1", "0"), ("4", "1", "1")]
    assert car.find("box").get("xtl") == "10.00" and car.find("box").get("xbr") == "30.00"


def test_cvat_detections_are_one_frame_tracks():
    root = ET.fromstring(export("cvat", detections(), VIDEO).body)
    spans = [[(b.get("frame"), b.get("outside")) for b in track.iter("box")] for track in root.iter("track")]
    assert spans == [[("3", "0"), ("4", "1")], [("3", "0"), ("4", "1")], [("9", "0"), ("10", "1")]]


def test_labelstudio_tracks_are_video_rectangles_in_percent_with_keyframes_only():
    [task] = json.loads(export("labelstudio", tracks(), VIDEO).body)
    [prediction] = task["predictions"]
    car, person = prediction["result"]
    assert car["type"] == "videorectangle" and car["value"]["labels"] == ["car"]
    assert [item["frame"] for item in car["value"]["sequence"]] == [1, 2, 4]  # 1-based; interpolated left out
    first = car["value"]["sequence"][0]
    assert (first["x"], first["y"], first["width"], first["height"], first["time"]) == (5.0, 20.0, 10.0, 20.0, 0.0)
    assert [item["enabled"] for item in car["value"]["sequence"]] == [True, True, False]  # ends on its last box
    assert car["value"]["framesCount"] == 50 and car["value"]["duration"] == 2.0
    assert prediction["model_version"] == "yolo11n-seg"


@pytest.mark.parametrize("name, result, fitting", [
    ("mot", detections, "coco, cvat, labelstudio"),
    ("coco-video", detections, "coco, cvat, labelstudio"),
])
def test_a_result_a_format_does_not_take_is_refused_naming_the_formats_that_do(name, result, fitting):
    with pytest.raises(BadRequest, match=f"{name} does not take detections; detections export as: {fitting}"):
        export(name, result(), VIDEO)


def test_an_unknown_format_is_refused_listing_the_formats():
    with pytest.raises(BadRequest, match="unknown format 'yolo'; the formats are: coco, coco-video, mot, cvat, "
                                         "labelstudio") as refused:
        export("yolo", tracks(), VIDEO)
    assert refused.value.details["formats"] == list(FORMATS)


def test_the_api_offers_exactly_the_formats_there_are():
    from typing import get_args

    from services.schemas import ExportFormat

    assert list(get_args(ExportFormat)) == list(FORMATS)


def test_boxes_on_frames_outside_the_video_or_masks_of_another_size_are_refused():
    far = tracks().model_copy(deep=True)
    far.tracks[0].boxes[0].frame_number = 10**12
    with pytest.raises(BadRequest, match=r"result.tracks\[0\].boxes\[0\].frame_number 1000000000000 is outside"):
        export("mot", far, VIDEO)
    other = tracks().model_copy(deep=True)
    other.tracks[1].boxes[0].mask.size = [10, 10]
    with pytest.raises(BadRequest, match=r"mask.size \[10, 10\] is not the video's"):
        export("coco", other, VIDEO)
    repeated = tracks().model_copy(deep=True)
    repeated.tracks[1].track_id = 1  # two tracks cannot share an id: one would replace the other
    with pytest.raises(BadRequest, match=r"result.tracks\[1\].track_id 1 is already another track's"):
        export("mot", repeated, VIDEO)
    garbage = tracks().model_copy(deep=True)
    garbage.tracks[1].boxes[1].mask.counts = "é\x00no RLE"  # pycocotools would crash the process on it
    with pytest.raises(BadRequest, match=r"result.tracks\[1\].boxes\[1\].mask.counts is not a COCO RLE"):
        export("coco", garbage, VIDEO)


# -- read back by the field's own readers (their own environment: scripts/install_readers.sh) ------------------------
LABEL_CONFIG = """<View>
  <Labels name="label" toName="video"><Label value="car"/><Label value="person"/><Label value="circle"/>
    <Label value="square"/></Labels>
  <Video name="video" value="$video" framerate="25"/>
  <VideoRectangle name="box" toName="video"/>
</View>"""


def test_cvat_tracks_read_back_by_datumaro(tmp_path):
    path = tmp_path / "annotations.xml"
    path.write_bytes(export("cvat", tracks(), VIDEO).body)
    read = read_export("cvat", path)
    assert read["labels"] == ["car", "person"]
    inside = [(b["frame"], b["label"], b["keyframe"]) for b in read["boxes"] if not b["outside"]]
    assert inside == [(0, "car", True), (1, "car", True), (2, "car", False), (2, "person", True), (3, "car", True),
                      (3, "person", True)]
    assert [b for b in read["boxes"] if b["frame"] == 0][0]["box"] == [10.0, 20.0, 30.0, 40.0]  # x0 y0 x1 y1
    assert {(b["frame"], b["label"]) for b in read["boxes"] if b["outside"]} == {(4, "car"), (4, "person")}


def test_cvat_detections_read_back_by_datumaro(tmp_path):
    path = tmp_path / "annotations.xml"
    path.write_bytes(export("cvat", detections(), VIDEO).body)
    inside = [(b["frame"], b["label"], b["box"]) for b in read_export("cvat", path)["boxes"] if not b["outside"]]
    assert inside == [(3, "circle", [10.0, 10.0, 30.0, 30.0]), (3, "square", [190.0, 50.0, 200.0, 70.0]),
                      (9, "square", [5.0, 5.0, 15.0, 15.0])]


@pytest.mark.parametrize("result", [tracks, detections])
def test_labelstudio_predictions_are_valid_for_the_labeling_config(tmp_path, result):
    path, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    path.write_bytes(export("labelstudio", result(), VIDEO).body)
    config.write_text(LABEL_CONFIG)
    read = read_export("labelstudio", path, config)
    assert read == {"errors": [[]], "data": [["video"]]}  # label-studio-sdk finds nothing wrong


def test_the_labelstudio_reader_does_find_a_broken_prediction(tmp_path):
    [task] = json.loads(export("labelstudio", tracks(), VIDEO).body)
    task["predictions"][0]["result"][0]["type"] = "rectangle"  # an image rectangle on a video
    path, config = tmp_path / "tasks.json", tmp_path / "config.xml"
    path.write_text(json.dumps([task]))
    config.write_text(LABEL_CONFIG)
    [errors] = read_export("labelstudio", path, config)["errors"]
    assert errors and "videorectangle" in errors[0]


@pytest.mark.parametrize(("name", "fallback"), [
    ("shapes-detections-coco.json", "shapes-detections-coco.json"),
    ('Walk\u06f9\u902a "x"\\\r\nSet-Cookie: a.json', "Walk__ _x____Set-Cookie: a.json"),
    ("lone-\ud800.json", "lone-_.json"),
])
def test_a_file_s_name_never_breaks_its_header(name, fallback):
    from services.exports import Exported

    header = Exported(b"", "application/json", name).content_disposition
    assert header.startswith(f'attachment; filename="{fallback}"; filename*=UTF-8\'\'')
    header.encode("latin-1")  # what an HTTP header may hold
    assert "\r" not in header and "\n" not in header
