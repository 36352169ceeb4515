"""Frame access: decord batch decode equals PyAV frame for frame, in request order; bad files are 422."""

from __future__ import annotations

import av
import numpy as np
import pytest

from runners.errors import BadRequest, UndecodableVideo
from runners.video import VideoCache, VideoFile, _decode_pyav
from scripts.synthetic import write_video


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "moving.mp4"
    write_video(path, width=160, height=96, frames=60, fps=20, count=2, size_range=(16, 32), gop=25)
    return path


def pyav_frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_metadata_comes_from_the_file(video):
    info = VideoFile(video).info
    assert (info.width, info.height, info.frame_count) == (160, 96, 60)
    assert info.fps == pytest.approx(20.0)
    assert info.timestamp(30) == pytest.approx(1.5)


def test_batch_decode_equals_pyav_in_request_order(video):
    reference = pyav_frames(video)
    wanted = [41, 3, 27, 3, 59, 0, 26]  # unsorted, a duplicate, across keyframes
    frames = VideoFile(video).get_frames(wanted)
    assert len(frames) == len(wanted)
    for number, frame in zip(wanted, frames):
        assert frame.shape == (96, 160, 3) and frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, reference[number])


def test_pyav_fallback_decodes_the_same_frames(video):
    reference = pyav_frames(video)
    for number, frame in zip([2, 30, 45], _decode_pyav(str(video), [2, 30, 45])):
        np.testing.assert_array_equal(frame, reference[number])


@pytest.mark.parametrize("decoder", ["decord", "pyav"])
def test_streaming_yields_the_wanted_frames_in_order(video, decoder):
    reference = pyav_frames(video)
    file = VideoFile(video)
    if decoder == "pyav":
        file._decord = None  # as for a file decord cannot open
    wanted = [0, 5, 10, 15, 20, 25, 30, 59]
    streamed = list(file.iter_frames(wanted, chunk=3))
    assert [n for n, _ in streamed] == wanted
    for number, frame in streamed:
        np.testing.assert_array_equal(frame, reference[number])


def test_frames_outside_the_video_name_the_valid_range(video):
    with pytest.raises(BadRequest) as info:
        VideoFile(video).get_frames([5, 60, 1000])
    assert "0..59" in info.value.message and info.value.details["invalid"] == [60, 1000]


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64])
def test_files_that_are_not_video_are_undecodable(tmp_path, content):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(UndecodableVideo):
        VideoFile(path)


def test_truncated_video_is_undecodable_or_short(tmp_path, video):
    data = video.read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(UndecodableVideo):
        frames = VideoFile(path)
        frames.get_frames(list(range(frames.info.frame_count)))


def test_cache_reuses_open_videos_until_the_file_changes(tmp_path, video):
    cache = VideoCache(capacity=2)
    assert cache.open(video) is cache.open(video)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(video.read_bytes())
    first = cache.open(copy)
    copy.write_bytes(video.read_bytes()[:-10] + b"0123456789")
    assert cache.open(copy) is not first
