"""The media policy refuses everything outside the media roots before any file is opened."""

from __future__ import annotations

import os

import pytest

from runners.core.errors import BadRequest, Forbidden, NotFound, UndecodableVideo
from services.media import MediaPolicy


@pytest.fixture
def roots(tmp_path):
    media, outside = tmp_path / "media", tmp_path / "outside"
    media.mkdir()
    outside.mkdir()
    (media / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (media / "sub").mkdir()
    (media / "sub" / "other.mkv").write_bytes(b"x")
    (media / "empty.mp4").write_bytes(b"")
    (outside / "secret.mp4").write_bytes(b"secret")
    os.symlink(outside / "secret.mp4", media / "escape.mp4")
    os.symlink(media / "clip.mp4", media / "alias.mp4")
    return media, outside


@pytest.fixture
def policy(roots):
    return MediaPolicy([roots[0]], ["mp4", "mkv"])


def test_files_inside_the_roots_resolve(policy, roots):
    media, _ = roots
    assert policy.resolve(video_path=str(media / "clip.mp4")) == media / "clip.mp4"
    assert policy.resolve(video_path=str(media / "alias.mp4")) == media / "clip.mp4"  # symlink inside is fine
    assert policy.resolve(video_id="clip") == media / "clip.mp4"


@pytest.mark.parametrize("path", [
    "http://example.com/v.mp4", "https://example.com/v.mp4", "file:///etc/passwd", "concat:a.mp4|b.mp4",
    "rtsp://camera/stream", "pipe:0", "data:video/mp4;base64,AAAA", "subfile:,,start,0,end,0,,:/etc/passwd",
])
def test_urls_and_protocols_are_forbidden(policy, path):
    with pytest.raises(Forbidden):
        policy.resolve(video_path=path)


def test_paths_outside_the_roots_are_forbidden(policy, roots):
    media, outside = roots
    for path in (str(outside / "secret.mp4"), str(media / ".." / "outside" / "secret.mp4"), "/etc/passwd",
                 str(media / "escape.mp4"), "/dev/zero", str(outside / "missing.mp4")):
        with pytest.raises(Forbidden):
            policy.resolve(video_path=path)


def test_missing_files_directories_and_empty_files(policy, roots):
    media, _ = roots
    with pytest.raises(NotFound):
        policy.resolve(video_path=str(media / "missing.mp4"))
    with pytest.raises(UndecodableVideo):
        policy.resolve(video_path=str(media / "sub"))
    with pytest.raises(UndecodableVideo):
        policy.resolve(video_path=str(media / "empty.mp4"))
    with pytest.raises(BadRequest):
        policy.resolve(video_path=str(media / "clip.mp4") + "\x00.txt")


@pytest.mark.parametrize("video_id", ["../outside/secret", "sub/other", "/etc/passwd", "..", "a b", ""])
def test_video_ids_are_plain_names(policy, video_id):
    with pytest.raises((BadRequest, NotFound)):
        policy.resolve(video_id=video_id)


def test_video_id_not_found_and_symlinked_id_escape(policy):
    with pytest.raises(NotFound):
        policy.resolve(video_id="nothing")
    with pytest.raises(NotFound):  # escape.mp4 points outside: not served by id either
        policy.resolve(video_id="escape")


def test_special_files_long_names_and_hard_links(policy, roots):
    media, outside = roots
    os.mkfifo(media / "fifo.mp4")
    with pytest.raises(UndecodableVideo, match="not a regular file"):  # refused by stat, never opened (it would block)
        policy.resolve(video_path=str(media / "fifo.mp4"))
    with pytest.raises(BadRequest, match="longer than the file system allows"):
        policy.resolve(video_path=str(media / ("a" * 300 + ".mp4")))
    with pytest.raises(UndecodableVideo, match="is a directory"):
        policy.resolve(video_path=str(media) + "/")
    os.link(outside / "secret.mp4", media / "hard.mp4")  # a hard link inside a root is a file inside the root
    assert policy.resolve(video_path=str(media / "hard.mp4")) == media / "hard.mp4"
