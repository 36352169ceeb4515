"""Frame access: decord batch decode equals PyAV frame for frame, in request order; bad files are 422."""

from __future__ import annotations

import av
import numpy as np
import pytest

from runners.core.errors import BadRequest, UndecodableVideo
from runners.core.video import VideoCache, VideoFile, _decode_pyav
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
    wanted = [2, 30, 45]
    decoded = _decode_pyav(str(video), wanted)
    assert len(decoded) == len(wanted)  # not an empty list that every zip over it would accept
    by_decord = VideoFile(video).get_frames(wanted)
    for number, frame, decord_frame in zip(wanted, decoded, by_decord, strict=True):
        assert frame.shape == (96, 160, 3) and frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, reference[number])
        np.testing.assert_array_equal(frame, decord_frame)
    # and through VideoFile, as for a file decord cannot open: request order, duplicates kept
    file = VideoFile(video)
    file._decord = None
    wanted = [45, 2, 30, 2]
    frames = file.get_frames(wanted)
    assert len(frames) == len(wanted)
    for number, frame in zip(wanted, frames, strict=True):
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


@pytest.mark.parametrize("rotation, pixel", [(-90, (3, -4)), (90, (-4, 3)), (180, (-4, -4))])  # top-right, ...
def test_rotated_videos_are_turned_upright(tmp_path, rotation, pixel):
    """A display matrix (phones record portrait this way) turns the frames as a player shows them; a white block at
    the top-left of the stored frame lands in the corner the rotation takes it to."""
    path = tmp_path / "rotated.mp4"
    stored = np.zeros((48, 64, 3), np.uint8)
    stored[:8, :8] = 255
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.set_display_rotation(rotation)
        for _ in range(3):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="rgb24")))
        container.mux(stream.encode())
    video = VideoFile(path)
    upright = (64, 48) if rotation in (90, -90) else (48, 64)
    assert (video.info.height, video.info.width) == upright
    for frame in [*video.get_frames([0, 2]), *(f for _, f in video.iter_frames([1]))]:
        assert frame.shape == (*upright, 3) and frame.flags["C_CONTIGUOUS"]
        assert frame[pixel].mean() > 200 and frame[3, 3].mean() < 60  # the white block moved to its corner


def test_playlists_inside_a_root_open_nothing_else(tmp_path, video):
    """ffmpeg would follow an ffconcat or HLS file to other files (here through a symlink outside the folder) or
    URLs: only real video containers are opened."""
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(video.read_bytes())
    (tmp_path / "link.mp4").symlink_to(outside)
    playlists = {"concat.mp4": "ffconcat version 1.0\nfile 'link.mp4'\n",
                 "list.m3u8": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{outside}\n#EXT-X-ENDLIST\n",
                 "hls.mp4": f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n{outside}\n"}
    for name, text in playlists.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(UndecodableVideo):
            VideoFile(tmp_path / name)
