"""Previews against a real `bentoml serve`: the MP4 decodes (PyAV) to the result's frames at the video's size, each
track's colour is on its boxes, and away from every box the frame is the source frame; the PNG contact sheet; a
job's preview."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
import pytest
import supervision as sv

from runners.core.video import VideoFile
from tests.support.api import assert_envelope
from tests.support.demo_scores import track_request
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

CODEC_NOISE = 6.0  # mean absolute difference per channel, 0-255, that H.264 at crf 20 leaves on untouched pixels
COLOUR_DISTANCE = 60.0  # how far a drawn pixel may be from its track's colour after chroma subsampling


def decoded(mp4: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(mp4)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_a_track_preview_shows_each_tracks_colour_on_its_boxes_and_the_source_elsewhere(client, tracking_video,
                                                                                        tracked):
    response = client.post("/api/render", json={"video_path": str(tracking_video), "result": tracked})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "video/mp4"
    frames = decoded(response.content)
    assert len(frames) == 140 and frames[0].shape == (384, 640, 3)  # every frame of the range, at its own size
    source = VideoFile(tracking_video)
    checked = 0
    for n in (20, 60, 100):
        rendered, original = frames[n], source.get_frames([n])[0]
        drawn = [(track["track_id"], box) for track in tracked["tracks"] for box in track["boxes"]
                 if box["frame_number"] == n]  # interpolated ones too: their corners are drawn
        away = np.ones(rendered.shape[:2], dtype=bool)  # farther than 40 px from every box (labels sit above them)
        for _, box in drawn:
            b = box["bbox"]
            away[max(0, int(b["y"]) - 40):int(b["y"] + b["height"]) + 40,
                 max(0, int(b["x"]) - 40):int(b["x"] + b["width"]) + 40] = False
        boxes = [(track_id, box) for track_id, box in drawn if not box["interpolated"]]
        assert boxes
        for track_id, box in boxes:
            b = box["bbox"]
            x0, x1, y1 = int(b["x"]), int(b["x"] + b["width"]), int(b["y"] + b["height"])
            colour = np.array(sv.ColorPalette.DEFAULT.by_idx(track_id).as_rgb(), dtype=float)
            edge = rendered[max(0, y1 - 3):y1 + 3, x0 + 4:max(x0 + 5, x1 - 4)].reshape(-1, 3).astype(float)
            assert np.linalg.norm(edge - colour, axis=1).min() < COLOUR_DISTANCE, (n, track_id)  # its bottom edge
            checked += 1
        assert away.sum() > 10_000
        noise = np.abs(rendered[away].astype(float) - original[away].astype(float)).mean()
        assert noise < CODEC_NOISE, (n, noise)
    assert checked >= 6


def test_a_contact_sheet_shows_the_chosen_frames_in_a_grid(client, tracking_video, tracked):
    response = client.post("/api/render", json={"video_path": str(tracking_video), "result": tracked,
                                                "format": "png", "frame_numbers": [0, 50, 100, 139], "max_side": 320})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    sheet = cv2.imdecode(np.frombuffer(response.content, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert sheet.shape == (2 * 192, 2 * 320, 3)  # 2 x 2 frames, each 320 x 192


def test_a_detect_preview_and_refusals(client, demo_video):
    detected = client.post("/api/detect", json={"video_path": str(demo_video), "frame_numbers": [0, 10, 20],
                                                 "model": "yolo11n"}).json()
    frames = decoded(client.post("/api/render", json={"video_path": str(demo_video), "result": detected}).content)
    assert len(frames) == 3  # the result's frames
    assert_envelope(client.post("/api/render", json={"video_path": "/etc/passwd", "result": detected}), 403)
    assert_envelope(client.post("/api/render", json={"video_path": str(demo_video), "result": detected,
                                                     "frame_numbers": [10_000]}), 400)
    assert_envelope(client.post("/api/render", json={"video_path": str(demo_video), "result": detected,
                                                     "format": "gif"}), 400)


def test_a_track_jobs_preview(client, tracking_video):
    job = client.post("/api/jobs", json={"task": "track", "request": {**track_request(tracking_video),
                                                                      "frame_range": {"start": 0, "end": 29}}}).json()
    wait_for(lambda: client.get(f"/api/jobs/{job['job_id']}").json()["status"] == "succeeded")
    response = client.get(f"/api/jobs/{job['job_id']}/preview.mp4")
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    assert len(decoded(response.content)) == 30
    assert_envelope(client.get("/api/jobs/no-such-job/preview.mp4"), 404)
