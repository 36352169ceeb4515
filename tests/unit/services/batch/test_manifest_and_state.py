"""vms batch's manifest (every bad line listed before any work) and state (what a rerun skips and retries)."""

from __future__ import annotations

import json

import pytest

from services.batch.cli import main
from services.batch.manifest import Entry, ManifestError, read_manifest
from services.batch.state import BatchState, Finished, params_hash


def test_a_jsonl_manifest_gives_ids_and_overrides(tmp_path):
    manifest = tmp_path / "videos.jsonl"
    manifest.write_text('{"video": "/data/a.mp4"}\n\n# a comment\n'
                        '{"video": "/data/b.mp4", "id": "clip-b", "confidence_threshold": 0.3}\n')
    assert read_manifest(manifest) == [Entry("/data/a.mp4", "a"),
                                       Entry("/data/b.mp4", "clip-b", {"confidence_threshold": 0.3})]


def test_a_csv_manifest_reads_json_cells(tmp_path):
    manifest = tmp_path / "videos.csv"
    manifest.write_text("video,id,frame_numbers,model\n/data/a.mp4,,\"[0, 5]\",yolo11n\n/data/b.mp4,bee,,\n")
    assert read_manifest(manifest) == [Entry("/data/a.mp4", "a", {"frame_numbers": [0, 5], "model": "yolo11n"}),
                                       Entry("/data/b.mp4", "bee")]


def test_a_directory_is_every_video_under_it(tmp_path):
    for name in ("b.mp4", "sub/a.MOV", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [e.id for e in read_manifest(tmp_path)] == ["b", "a"]


def test_every_bad_line_is_listed_at_once(tmp_path):
    manifest = tmp_path / "videos.jsonl"
    manifest.write_text('{"video": "/data/a.mp4"}\nnot json\n[1, 2]\n{"id": "x"}\n{"video": "/other/a.mp4"}\n'
                        '{"video": "/data/c.mp4", "id": "../up"}\n{"video": "/data/d.mp4", "id": 7}\n')
    with pytest.raises(ManifestError) as refused:
        read_manifest(manifest)
    assert refused.value.problems == [
        "line 2: not JSON (Expecting value)", "line 3: not a JSON object",
        "line 4: no \"video\" (the video's path)", "line 5: id 'a' is already used by line 1 (give an id)",
        "line 6: id '../up' is not a folder name (letters, digits, '.', '_', '-'; at most 200 characters)",
        "line 7: \"id\" must be text"]
    assert "6 bad entries, nothing was run" in str(refused.value)


def test_the_state_skips_what_is_done_at_the_same_parameters_and_counts_attempts(tmp_path):
    digest = params_hash("detect", {"video_path": "a.mp4", "model": "yolo11n"}, "json")
    assert digest != params_hash("detect", {"video_path": "a.mp4", "model": "yolo11n"}, "coco")
    state = BatchState(tmp_path)
    state.record(Finished("a", "a.mp4", "done", digest, attempts=1, frames=10))
    state.record(Finished("b", "b.mp4", "failed", digest, attempts=2, error={"status": 503}))
    state.close()
    with (tmp_path / "_state.jsonl").open("a") as file:
        file.write('{"id": "c", "video": "c.mp4", "sta')  # a line cut short by a kill
    again = BatchState(tmp_path)
    assert again.is_done("a", digest) and not again.is_done("a", "another") and not again.is_done("b", digest)
    assert (again.attempts("b", digest), again.attempts("b", "another"), again.attempts("c", digest)) == (2, 0, 0)
    again.close()


@pytest.mark.parametrize("args, words", [
    (["--task", "detect", "--format", "mot"], "--format mot does not take detect results"),
    (["--task", "detect", "--params", "{params}"], "video_path comes from the manifest"),
    (["--task", "detect", "--manifest", "{missing}"], "no such file or directory"),
])
def test_usage_errors_stop_before_any_work(tmp_path, capsys, args, words):
    (tmp_path / "videos.jsonl").write_text('{"video": "a.mp4"}\n')
    (tmp_path / "params.json").write_text(json.dumps({"video_path": "x.mp4"}))
    given = [a.format(params=tmp_path / "params.json", missing=tmp_path / "none.jsonl") for a in args]
    base = ["batch", "--manifest", str(tmp_path / "videos.jsonl"), "--out", str(tmp_path / "out"),
            "--service", "http://127.0.0.1:9"]
    assert main(base + given) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, words", [
    (["--engine", "ray", "--service", "http://127.0.0.1:9"], "--engine ray takes none"),
    ([], "--engine service needs --service URL"),
    (["--engine", "ray", "--actors", "0"], "--actors must be at least 1"),
    (["--engine", "ray"], "configuration file {missing} does not exist"),
])
def test_an_engine_without_what_it_needs_is_refused(tmp_path, capsys, monkeypatch, args, words):
    from runners.core.config import get_config

    monkeypatch.setenv("MODEL_CONFIG", str(tmp_path / "none.yaml"))
    get_config.cache_clear()
    (tmp_path / "videos.jsonl").write_text('{"video": "a.mp4"}\n')
    try:
        assert main(["batch", "--manifest", str(tmp_path / "videos.jsonl"), "--task", "detect", "--out",
                     str(tmp_path / "out"), *args]) == 2
    finally:
        get_config.cache_clear()
    assert words.format(missing=tmp_path / "none.yaml") in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_package_installs_the_vms_command():
    import sys
    from pathlib import Path

    command = Path(sys.executable).with_name("vms")
    assert command.exists(), "pip install -e . installs `vms` (pyproject [project.scripts])"
