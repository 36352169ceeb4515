"""Hostile inputs against a real `bentoml serve` whose only media root is a temporary folder of prepared files.

Every row names the documented status (README "Errors") and a fragment of the envelope's message, which must tell the
client what to do. Refused files must never be opened: FIFOs stand in for them (opening a FIFO for reading blocks, and
a non-blocking writer can tell whether anyone has it open), a local HTTP server counts the fetches a playlist would
make, and the server must still answer /health quickly after everything.

Decisions: a hard link inside a root IS a file inside the root (200); the server never URL-decodes a path, so
`%2e%2e` is a plain name (404 inside a root, 403 outside); rotated videos are turned upright (width and height are
those of the upright picture).
"""

from __future__ import annotations

import errno
import fractions
import http.server
import os
import shutil
import threading

import httpx
import numpy as np
import pytest

from scripts.local_server import start_service, stop_service
from tests.support.api import assert_envelope
from tests.support.config import config_variant

pytestmark = pytest.mark.integration

W, H = 64, 48
URL_REFUSED = "urls and protocol strings are not opened"
OUTSIDE = "outside the media roots"


def write_video(path, frames: int = 10, rotation: int | None = None, vfr: bool = False, faststart: bool = False):
    """A small MPEG-4 video of noise frames (so that a cut file loses frames), optionally rotated (display matrix,
    as phones record portrait) or with a variable frame rate."""
    import av

    rng = np.random.default_rng(0)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if vfr:
            stream.codec_context.time_base = fractions.Fraction(1, 1000)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8), format="rgb24")
            if vfr:  # 100 ms and 40 ms frames in turn
                frame.pts, frame.time_base = 140 * (i // 2) + 100 * (i % 2), fractions.Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_no_frames(path):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        container.start_encoding()


class Fetches(http.server.BaseHTTPRequestHandler):
    """Counts what a playlist inside a root would make ffmpeg fetch."""
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        Fetches.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile(demo_config, tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    root, outside = base / "media root", base / "outside"  # a space in the root itself
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    write_video(root / "ok.mp4")
    write_video(outside / "secret.mp4")
    shutil.copy(root / "ok.mp4", root / "vidéo d'été 🎬 final.mp4")
    os.link(outside / "secret.mp4", root / "hardlink.mp4")
    os.symlink(outside / "secret.mp4", root / "escape.mp4")
    os.symlink(outside, root / "linkdir")
    os.symlink("/dev/zero", root / "zero-link.mp4")
    os.symlink("/etc/passwd", root / "passwd-link.mp4")
    os.mkfifo(root / "fifo.mp4")
    os.mkfifo(outside / "trap.fifo")
    os.symlink(outside / "trap.fifo", root / "trap-link.mp4")

    write_video(root / "vfr.mp4", frames=20, vfr=True)
    write_video(root / "rotated.mp4", frames=10, rotation=-90)
    write_video(root / "long.mp4", frames=50, faststart=True)
    data = (root / "long.mp4").read_bytes()
    (root / "truncated-head.mp4").write_bytes(data[: len(data) * 6 // 10])  # index intact, frames cut off
    ok = (root / "ok.mp4").read_bytes()
    (root / "truncated-tail.mp4").write_bytes(ok[: len(ok) // 2])  # index (at the end) cut off
    (root / "empty.mp4").write_bytes(b"")
    (root / "text.mp4").write_text("this is not a video\n" * 20)
    (root / "random.mp4").write_bytes(np.random.default_rng(1).bytes(8192))
    (root / "header-only.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    write_no_frames(root / "no-frames.mp4")
    write_no_frames(root / "no-frames.mkv")

    fetches = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fetches)
    threading.Thread(target=fetches.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{fetches.server_address[1]}"
    (root / "playlist.m3u8").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{url}/a.mp4\n"
                                        "#EXT-X-ENDLIST\n")
    (root / "playlist.mp4").write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
                                       f"#EXTINF:10.0,\n{outside / 'secret.mp4'}\n#EXT-X-ENDLIST\n")
    (root / "concat.mp4").write_text("ffconcat version 1.0\nfile 'escape.mp4'\n")  # through the symlink, outside
    (root / "sdp.mp4").write_text(f"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                  f"m=video {fetches.server_address[1]} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")

    config = config_variant(demo_config, base / "models.yaml",
                            lambda c: c["media"].__setitem__("roots", [str(root)]))
    process, server_url, _ = start_service(config, base / "serve.log")
    try:
        with httpx.Client(base_url=server_url, timeout=120) as client:
            yield {"client": client, "root": root, "outside": outside, "fetches": Fetches.hits}
    finally:
        stop_service(process)
        fetches.shutdown()


def opened_by_anyone(fifo) -> bool:
    """Whether some process has the FIFO open for reading (a decoder blocked in open() counts)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        assert exc.errno == errno.ENXIO, exc
        return False
    os.close(fd)
    return True


def detect(hostile, timeout: float = 120, **fields) -> httpx.Response:
    body = {"model": "yolo11n", "frame_numbers": [0], **fields}
    for key in ("video_path", "video_id"):
        if isinstance(body.get(key), str):
            body[key] = body[key].format(root=hostile["root"], outside=hostile["outside"])
    return hostile["client"].post("/api/detect", json=body, timeout=timeout)


# (id, request fields, status, fragment of the message)
PATH_ROWS = [
    # traversal
    ("dotdot", {"video_path": "{root}/../outside/secret.mp4"}, 403, OUTSIDE),
    ("dotdot-deep", {"video_path": "{root}/sub/../../outside/secret.mp4"}, 403, OUTSIDE),
    ("dotdot-relative", {"video_path": "../../../../../../etc/passwd"}, 403, "absolute path"),
    ("absolute-outside", {"video_path": "{outside}/secret.mp4"}, 403, OUTSIDE),
    ("etc-passwd", {"video_path": "/etc/passwd"}, 403, OUTSIDE),
    ("proc-environ", {"video_path": "/proc/self/environ"}, 403, OUTSIDE),
    ("encoded-dotdot-inside", {"video_path": "{root}/%2e%2e/outside/secret.mp4"}, 404, "not found"),
    ("encoded-dotdot-relative", {"video_path": "%2e%2e/%2e%2e/etc/passwd"}, 403, OUTSIDE),
    ("encoded-slashes", {"video_path": "..%2f..%2fetc%2fpasswd"}, 403, OUTSIDE),
    ("video-id-dotdot", {"video_id": "../outside/secret"}, 400, "only letters"),
    ("video-id-absolute", {"video_id": "/etc/passwd"}, 400, "only letters"),
    # links
    ("symlink-escape", {"video_path": "{root}/escape.mp4"}, 403, OUTSIDE),
    ("symlink-dir-escape", {"video_path": "{root}/linkdir/secret.mp4"}, 403, OUTSIDE),
    ("symlink-to-passwd", {"video_path": "{root}/passwd-link.mp4"}, 403, OUTSIDE),
    ("video-id-symlink-escape", {"video_id": "escape"}, 404, "no video with id"),
    ("hardlink-inside-is-inside", {"video_path": "{root}/hardlink.mp4"}, 200, ""),
    # URLs and ffmpeg protocols
    ("http", {"video_path": "http://127.0.0.1:1/v.mp4"}, 403, URL_REFUSED),
    ("https", {"video_path": "https://example.com/v.mp4"}, 403, URL_REFUSED),
    ("http-upper", {"video_path": "HTTP://example.com/v.mp4"}, 403, URL_REFUSED),
    ("file-url-outside", {"video_path": "file:///etc/passwd"}, 403, URL_REFUSED),
    ("file-url-inside", {"video_path": "file://{root}/ok.mp4"}, 403, URL_REFUSED),
    ("s3", {"video_path": "s3://bucket/v.mp4"}, 403, URL_REFUSED),
    ("concat-protocol", {"video_path": "concat:{root}/ok.mp4|{outside}/secret.mp4"}, 403, URL_REFUSED),
    ("pipe", {"video_path": "pipe:0"}, 403, URL_REFUSED),
    ("rtsp", {"video_path": "rtsp://camera/stream"}, 403, URL_REFUSED),
    ("data", {"video_path": "data:video/mp4;base64,AAAAGGZ0eXBtcDQy"}, 403, URL_REFUSED),
    ("subfile", {"video_path": "subfile:,,start,0,end,0,,:/etc/passwd"}, 403, URL_REFUSED),
    ("async-file", {"video_path": "async:file:/etc/passwd"}, 403, URL_REFUSED),
    ("tcp", {"video_path": "tcp://127.0.0.1:1"}, 403, URL_REFUSED),
    ("dash-i", {"video_path": "-i /etc/passwd"}, 403, OUTSIDE),
    ("dash-f-lavfi", {"video_path": "-f lavfi -i testsrc"}, 403, OUTSIDE),
    # devices, FIFOs, directories and odd names
    ("dev-zero", {"video_path": "/dev/zero"}, 403, OUTSIDE),
    ("dev-urandom", {"video_path": "/dev/urandom"}, 403, OUTSIDE),
    ("symlink-to-dev-zero", {"video_path": "{root}/zero-link.mp4"}, 403, OUTSIDE),
    ("fifo-inside", {"video_path": "{root}/fifo.mp4"}, 422, "not a regular file"),
    ("fifo-outside", {"video_path": "{outside}/trap.fifo"}, 403, OUTSIDE),
    ("symlink-to-fifo-outside", {"video_path": "{root}/trap-link.mp4"}, 403, OUTSIDE),
    ("directory-root", {"video_path": "{root}"}, 422, "is a directory"),
    ("directory-sub", {"video_path": "{root}/sub/"}, 422, "is a directory"),
    ("missing", {"video_path": "{root}/missing.mp4"}, 404, "not found"),
    ("nul-byte", {"video_path": "{root}/ok.mp4\x00.txt"}, 400, "NUL"),
    ("name-too-long", {"video_path": "{root}/" + "a" * 300 + ".mp4"}, 400, "longer than the file system allows"),
    ("path-too-long", {"video_path": "/" + "a/" * 2100}, 400, "at most 4096 characters"),
    ("unicode-and-spaces", {"video_path": "{root}/vidéo d'été 🎬 final.mp4"}, 200, ""),
]

VIDEO_ROWS = [
    ("empty", {"video_path": "{root}/empty.mp4"}, 422, "empty"),
    ("truncated-tail", {"video_path": "{root}/truncated-tail.mp4"}, 422, "re-encode"),
    ("truncated-head-last-frame", {"video_path": "{root}/truncated-head.mp4", "frame_numbers": [49]}, 422,
     "truncated"),
    ("text-not-video", {"video_path": "{root}/text.mp4"}, 422, "not a readable video"),
    ("random-bytes", {"video_path": "{root}/random.mp4"}, 422, "not a readable video"),
    ("header-only", {"video_path": "{root}/header-only.mp4"}, 422, "re-encode"),
    ("zero-frames-mp4", {"video_path": "{root}/no-frames.mp4"}, 422, "re-encode"),
    ("zero-frames-mkv", {"video_path": "{root}/no-frames.mkv"}, 422, "re-encode"),
    ("hls-playlist-m3u8", {"video_path": "{root}/playlist.m3u8"}, 422, "not a video container"),
    ("hls-playlist-as-mp4", {"video_path": "{root}/playlist.mp4"}, 422, "not a readable video"),
    ("ffconcat-through-symlink", {"video_path": "{root}/concat.mp4"}, 422, "not a video container"),
    ("sdp-network-stream", {"video_path": "{root}/sdp.mp4"}, 422, "not a video container"),
    ("frames-past-the-end", {"video_path": "{root}/ok.mp4", "frame_numbers": [0, 10, 99]}, 400,
     "valid frames are 0..9"),
    ("negative-frame", {"video_path": "{root}/ok.mp4", "frame_numbers": [-1]}, 400, "frame_numbers"),
]


@pytest.mark.parametrize("fields, status, fragment",
                         [pytest.param(*row[1:], id=row[0]) for row in PATH_ROWS + VIDEO_ROWS])
def test_hostile_video_references(hostile, fields, status, fragment):
    # a refusal reads nothing: a FIFO or device that were read would hang this request until its timeout
    response = detect(hostile, **fields)
    if status == 200:
        assert response.status_code == 200, response.text
        assert response.json()["video"]["frame_count"] == 10
    else:
        assert_envelope(response, status, fragment)


def test_variable_frame_rate_and_rotated_videos_work(hostile):
    vfr = detect(hostile, video_path="{root}/vfr.mp4", frame_numbers=[0, 7, 19])
    assert vfr.status_code == 200, vfr.text
    assert vfr.json()["video"]["frame_count"] == 20 and vfr.json()["total_frames"] == 3
    rotated = detect(hostile, video_path="{root}/rotated.mp4", frame_numbers=[0, 9])
    assert rotated.status_code == 200, rotated.text
    video = rotated.json()["video"]
    assert (video["width"], video["height"]) == (H, W)  # the upright picture of a portrait recording
    for frame in rotated.json()["detections"]:
        for obj in frame["objects"]:
            assert obj["bbox"]["x"] + obj["bbox"]["width"] <= H + 0.01


def test_truncated_video_still_serves_the_frames_it_has(hostile):
    # long.mp4 cut at 60 % of its bytes: its index (at the front) still says 50 frames, the first 25 decode
    wanted = [20, 0, 10]
    response = detect(hostile, video_path="{root}/truncated-head.mp4", frame_numbers=wanted)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_frames"] == len(wanted)
    assert [frame["frame_number"] for frame in body["detections"]] == wanted  # every one requested, in order
    assert body["total_detections"] == sum(frame["detection_count"] for frame in body["detections"])
    video = body["video"]
    assert (video["width"], video["height"], video["frame_count"]) == (W, H, 50)
    assert video["fps"] == pytest.approx(25.0)
    for frame in body["detections"]:
        assert frame["timestamp"] == pytest.approx(frame["frame_number"] / 25)


def raw(hostile, content, headers=None):
    return hostile["client"].post("/api/detect", content=content,
                                  headers={"content-type": "application/json", **(headers or {})})


def body_with(hostile, extra: str) -> str:
    return f'{{"video_path": "{hostile["root"] / "ok.mp4"}", "model": "yolo11n", {extra}}}'


BODY_ROWS = [
    ("nan", lambda h: body_with(h, '"frame_numbers": [0], "confidence_threshold": NaN'), 400, "finite number"),
    ("infinity", lambda h: body_with(h, '"frame_numbers": [0], "confidence_threshold": Infinity'), 400, "finite"),
    ("minus-infinity", lambda h: body_with(h, '"frame_numbers": [0], "nms_threshold": -Infinity'), 400, "finite"),
    ("overflowing-float", lambda h: body_with(h, '"frame_numbers": [0], "confidence_threshold": 1e400'), 400,
     "finite"),
    ("nan-frame", lambda h: body_with(h, '"frame_numbers": [NaN]'), 400, "frame_numbers"),
    ("huge-integer-frame", lambda h: body_with(h, f'"frame_numbers": [1{"0" * 400}]'), 400,
     "valid frames are 0..9"),
    ("frames-100k", lambda h: body_with(h, f'"frame_numbers": [{",".join(["0"] * 100_000)}]'), 400,
     "at most 1000 items"),
    ("frames-1001", lambda h: body_with(h, f'"frame_numbers": [{",".join(["0"] * 1001)}]'), 400,
     "at most 1000 items"),
    ("frames-empty", lambda h: body_with(h, '"frame_numbers": []'), 400, "frame_numbers"),
    ("frames-string", lambda h: body_with(h, '"frame_numbers": "0"'), 400, "valid array"),
    ("frames-float", lambda h: body_with(h, '"frame_numbers": [0.5]'), 400, "valid integer"),
    ("threshold-string", lambda h: body_with(h, '"frame_numbers": [0], "confidence_threshold": "high"'), 400,
     "confidence_threshold"),
    ("path-number", lambda h: '{"video_path": 5, "frame_numbers": [0]}', 400, "valid string"),
    ("path-list", lambda h: '{"video_path": ["a"], "frame_numbers": [0]}', 400, "valid string"),
    ("body-array", lambda h: "[1, 2]", 400, "object"),
    ("body-null", lambda h: "null", 400, "object"),
    ("body-not-json", lambda h: '{"video_path": ', 400, "invalid json"),
    ("body-bad-utf8", lambda h: b'{"video_path": "\xff\xfe", "frame_numbers": [0]}', 400, "invalid json"),
    ("deep-nesting", lambda h: body_with(h, f'"frame_numbers": [0], "x": {"[" * 100_000}{"]" * 100_000}'),
     400, "invalid json"),
    ("over-8-mib", lambda h: body_with(h, '"frame_numbers": [0], "pad": "%s"' % ("x" * (9 << 20))), 413,
     "exceeds 8388608 bytes"),
]


@pytest.mark.parametrize("make, status, fragment", [pytest.param(*row[1:], id=row[0]) for row in BODY_ROWS])
def test_hostile_bodies(hostile, make, status, fragment):
    assert_envelope(raw(hostile, make(hostile)), status, fragment)


def test_chunked_body_over_8_mib_is_413(hostile):
    def chunks():
        for _ in range(9):
            yield b" " * (1 << 20)
        yield b'{"video_path": "x", "frame_numbers": [0]}'

    assert_envelope(raw(hostile, chunks()), 413, "exceeds")


def test_refused_files_were_never_opened_and_the_server_is_healthy(hostile):
    """Runs after the tables (file order): the FIFOs were never opened, no playlist fetched anything."""
    root, outside = hostile["root"], hostile["outside"]
    for fifo in (root / "fifo.mp4", outside / "trap.fifo"):
        assert not opened_by_anyone(fifo), f"{fifo} is held open by a reader"
    assert hostile["fetches"] == []
    health = hostile["client"].get("/health", timeout=120)  # no worker is stuck on a FIFO it opened
    assert health.status_code == 200 and health.json()["status"] == "healthy", health.text
    ok = detect(hostile, video_path="{root}/ok.mp4")
    assert ok.status_code == 200, ok.text
