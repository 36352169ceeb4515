"""`vms batch` through a real `bentoml serve` and on a local Ray cluster: a manifest of demo and synthetic videos with
a file that is not a video and a missing one; bad entries fail on their own, a bad manifest is refused before any
work, a rerun skips what is done, a driver killed part way runs nothing twice, both engines write the same files, and
a video whose Ray actor was killed is retried and finishes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from runners.core.config import get_config
from scripts import synthetic
from scripts.local_server import kill_service, start_service, stop_service
from services.batch.in_process import InProcessTasks
from services.batch.state import BatchState
from services.batch.through_service import Work
from tests.support.config import config_variant
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DETECT = {"model": "yolo11n", "frame_range": {"start": 0, "end": 100_000}, "stride": 4}
TRACK = {"model": "yolo11n-seg", "frame_range": {"start": 0, "end": 47}}
SPARK_RECIPE = REPO / "docs" / "recipes" / "spark_detect.py"
SPARK_PARAMS = {"model": "yolo11n", "frame_range": {"start": 0, "end": 100_000}, "stride": 10}  # the recipe's


@pytest.fixture(scope="module")
def dataset(demo_dir, demo_config, tmp_path_factory):
    """Eight videos (the demo's three, five synthetic ones), a file that is not a video and a missing one, in a
    media root of a service of its own."""
    root = tmp_path_factory.mktemp("dataset")
    for i in range(5):
        synthetic.write_video(root / f"synthetic-{i}.mp4", width=160, height=96, frames=24 + 8 * i, seed=i, count=2,
                              size_range=(24, 40))
    (root / "not-a-video.mp4").write_text("this is text, not a video\n")
    videos = [demo_dir / "media" / name for name in ("shapes.mp4", "tracking.mp4", "portrait.mp4")]
    videos += sorted(root.glob("synthetic-*.mp4")) + [root / "not-a-video.mp4", root / "missing.mp4"]
    manifest = root / "videos.jsonl"
    manifest.write_text("".join(json.dumps({"video": str(v)}) + "\n" for v in videos))
    params = root / "params.json"
    params.write_text(json.dumps(DETECT))
    config = config_variant(demo_config, root / "models.yaml", lambda c: c["media"]["roots"].append(str(root)))
    process, url, _ = start_service(config, root / "serve.log")
    yield {"url": url, "manifest": manifest, "params": params, "root": root, "config": config}
    stop_service(process)


def vms(*args, config: Path | None = None) -> subprocess.Popen:
    """`vms batch` with `args`; with `config`, the models' configuration a Ray run reads (MODEL_CONFIG)."""
    env = {**os.environ, "MODEL_CONFIG": str(config)} if config else None
    return subprocess.Popen([sys.executable, "-m", "services.batch.cli", "batch", *map(str, args)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def batch_args(dataset, out: Path) -> list:
    return ["--manifest", dataset["manifest"], "--task", "detect", "--params", dataset["params"], "--out", out,
            "--service", dataset["url"], "--concurrency", "2", "--retries", "1"]


def state_lines(out: Path) -> list[dict]:
    path = out / "_state.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def jobs_by_video(url: str) -> dict[str, list[dict]]:
    jobs = httpx.get(f"{url}/api/jobs", params={"limit": 500}, timeout=60).json()["jobs"]
    by_video: dict[str, list[dict]] = {}
    for job in jobs:
        by_video.setdefault(job["request"]["video_path"], []).append(job)
    return by_video


def test_a_batch_runs_every_video_and_records_the_bad_ones(dataset, tmp_path):
    out = tmp_path / "out"
    run = vms(*batch_args(dataset, out))
    stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 1, stderr  # some videos failed
    summary = json.loads((out / "_summary.json").read_text())
    assert (summary["videos"], summary["done"], summary["failed"], summary["skipped"]) == (10, 8, 2, 0)
    assert "failed: not-a-video" in stdout and "frames/s" in stdout
    states = {s["id"]: s for s in state_lines(out)}
    assert states["not-a-video"]["error"]["status"] == 422 and states["missing"]["error"]["status"] == 404
    assert states["missing"]["attempts"] == 1  # a 404 is not worth retrying
    for video_id, state in states.items():
        if state["status"] == "done":
            body = json.loads((out / video_id / "detect.json").read_text())
            assert state["frames"] == body["total_frames"] > 0
            assert [f["frame_number"] for f in body["detections"]] == list(range(0, 4 * body["total_frames"], 4))

    rerun = vms(*batch_args(dataset, out))
    stdout, _ = rerun.communicate(timeout=900)
    summary = json.loads((out / "_summary.json").read_text())
    assert (summary["skipped"], summary["done_this_run"], summary["failed"]) == (8, 0, 2)  # the failed ones again
    assert {s["id"]: s["attempts"] for s in state_lines(out)[10:]} == {"not-a-video": 2, "missing": 2}


@pytest.mark.parametrize("engine", ["service", "ray"])
def test_a_bad_manifest_is_refused_before_any_work(dataset, tmp_path, engine):
    manifest = tmp_path / "bad.jsonl"
    manifest.write_text('{"video": "a.mp4"}\n{"vidoe": "b.mp4"}\nnot json\n')
    before = sum(len(jobs) for jobs in jobs_by_video(dataset["url"]).values())
    where = ["--service", dataset["url"]] if engine == "service" else ["--engine", "ray"]
    run = vms("--manifest", manifest, "--task", "detect", "--out", tmp_path / "out", *where, config=dataset["config"])
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2
    assert "2 bad entries, nothing was run" in stderr
    assert "line 2: no \"video\"" in stderr and "line 3: not JSON" in stderr
    assert not (tmp_path / "out").exists()
    assert sum(len(jobs) for jobs in jobs_by_video(dataset["url"]).values()) == before


def test_a_driver_killed_part_way_loses_nothing_and_runs_nothing_twice(dataset, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({**DETECT, "stride": 3}))  # parameters of its own: jobs of its own
    out = tmp_path / "out"
    args = batch_args(dataset, out)
    args[args.index(dataset["params"])] = params
    run = vms(*args)
    wait_for(lambda: len(state_lines(out)) >= 3, every_s=0.05)
    run.send_signal(signal.SIGKILL)  # no chance to record what is in flight
    run.wait(30)
    killed_at = len(state_lines(out))
    assert killed_at < 10
    rerun = vms(*args)
    rerun.communicate(timeout=900)
    lines = state_lines(out)
    states = {s["id"]: s for s in lines}
    assert len(states) == 10 and sum(s["status"] == "done" for s in states.values()) == 8
    done = [s["id"] for s in lines if s["status"] == "done"]
    assert sorted(done) == sorted(set(done))  # each video done once: the rerun skipped what the killed run finished
    by_video = jobs_by_video(dataset["url"])  # the service's view: each video ran as one job at these parameters
    for state in states.values():
        ran = [j for j in by_video.get(state["video"], []) if j["request"].get("stride") == 3
               and j["status"] == "succeeded"]
        assert len(ran) == (1 if state["status"] == "done" else 0), (state["id"], [j["job_id"] for j in ran])
        assert all(j["attempts"] == 1 for j in ran)


def on_ray_args(dataset, out: Path, params: Path, task: str = "detect", format: str = "json") -> list:
    return ["--manifest", dataset["manifest"], "--task", task, "--params", params, "--out", out, "--format", format,
            "--engine", "ray", "--actors", "1"]


@pytest.mark.parametrize(("task", "params", "format"), [("detect", DETECT, "coco"), ("track", TRACK, "mot")],
                         ids=["detect-yolo11n-coco", "track-yolo11n-seg-mot"])
def test_both_engines_write_the_same_files(dataset, tmp_path, task, params, format):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({**params, "max_detections": 299}))  # parameters of its own: jobs of its own
    through_service = vms("--manifest", dataset["manifest"], "--task", task, "--params", path, "--format", format,
                          "--out", tmp_path / "service", "--service", dataset["url"], "--retries", "0")
    _, stderr = through_service.communicate(timeout=900)
    assert through_service.returncode == 1, stderr
    on_ray = vms(*on_ray_args(dataset, tmp_path / "ray", path, task, format), config=dataset["config"])
    stdout, stderr = on_ray.communicate(timeout=900)
    assert on_ray.returncode == 1, stderr  # the two bad entries
    assert "failed: not-a-video" in stdout
    service_states = {s["id"]: s for s in state_lines(tmp_path / "service")}
    ray_states = {s["id"]: s for s in state_lines(tmp_path / "ray")}
    assert sorted(ray_states) == sorted(service_states) and len(ray_states) == 10
    extension = "json" if format == "coco" else "txt"
    for video_id, state in ray_states.items():
        other = service_states[video_id]
        assert (state["status"], state["frames"]) == (other["status"], other["frames"]), video_id
        if state["status"] == "failed":  # the same envelope: status, title and message
            assert {k: state["error"][k] for k in ("status", "error", "message")} == \
                   {k: other["error"][k] for k in ("status", "error", "message")}
            continue
        written = (tmp_path / "ray" / video_id / f"{task}.{extension}").read_bytes()
        assert written == (tmp_path / "service" / video_id / f"{task}.{extension}").read_bytes(), video_id
        assert len(written) > 100
    assert {ray_states["not-a-video"]["error"]["status"], ray_states["missing"]["error"]["status"]} == {422, 404}


def test_a_ray_driver_killed_part_way_runs_nothing_twice(dataset, tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({**DETECT, "stride": 2}))
    out = tmp_path / "out"
    args = on_ray_args(dataset, out, params)
    run = vms(*args, config=dataset["config"])
    wait_for(lambda: len(state_lines(out)) >= 3, every_s=0.05)
    kill_service(run)  # the driver and the local cluster it started, at once: nothing records what is in flight
    finished_before = [s["id"] for s in state_lines(out)]
    assert 3 <= len(finished_before) < 10
    rerun = vms(*args, config=dataset["config"])
    stdout, stderr = rerun.communicate(timeout=900)
    assert rerun.returncode == 1, stderr
    lines = state_lines(out)
    states = {s["id"]: s for s in lines}
    assert len(states) == 10 and sum(s["status"] == "done" for s in states.values()) == 8
    again = [s["id"] for s in lines[len(finished_before):]]
    assert not set(again) & {i for i in finished_before if states[i]["status"] == "done"}  # done ones were skipped
    done = [s["id"] for s in lines if s["status"] == "done"]
    assert sorted(done) == sorted(set(done))
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["skipped"] == sum(states[i]["status"] == "done" for i in finished_before)


def test_a_summary_on_ray_is_the_language_model_s_answer(dataset, demo_dir, tmp_path):
    manifest = tmp_path / "one.jsonl"
    manifest.write_text(json.dumps({"video": str(demo_dir / "media" / "portrait.mp4")}) + "\n")
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"frame_count": 4, "max_new_tokens": 64}))
    run = vms("--manifest", manifest, "--task", "summarize", "--params", params, "--out", tmp_path / "out",
              "--engine", "ray", config=dataset["config"])
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr
    body = json.loads((tmp_path / "out" / "portrait" / "summarize.json").read_text())
    assert body["engine"] == "transformers" and body["visual_model_used"] == "llama-4-maverick"
    assert len(body["sampled_frames"]) == 4 and body["tokens_generated"] > 0
    assert [s["frames"] for s in state_lines(tmp_path / "out")] == [4]


def test_a_video_whose_ray_actor_was_killed_is_retried_and_finishes(dataset, demo_dir, tmp_path, monkeypatch):
    """The driver in this process; the actor's process is killed as soon as it has started the first video."""
    import ray

    from services.batch.on_ray import RayBatch

    monkeypatch.setenv("MODEL_CONFIG", str(dataset["config"]))
    get_config.cache_clear()
    videos = {name: demo_dir / "media" / f"{name}.mp4" for name in ("tracking", "shapes")}
    requests = {name: {**TRACK, "video_path": str(path)} for name, path in videos.items()}
    works = [Work(name, str(videos[name]), request, f"digest-{name}", 1) for name, request in requests.items()]
    state = BatchState(tmp_path / "out")
    batch = RayBatch("track", "mot", tmp_path / "out", state, get_config(), actors=1)
    killed: list[tuple[str, int]] = []

    def kill_the_first_video_s_actor() -> None:
        started = wait_for(lambda: batch.ledger is not None and ray.get(batch.ledger.started.remote()), every_s=0.02)
        video_id, [pid] = next(iter(started.items()))
        os.kill(pid, signal.SIGKILL)
        killed.append((video_id, pid))

    killer = threading.Thread(target=kill_the_first_video_s_actor)
    killer.start()
    try:
        batch.run(works)
    finally:
        killer.join(60)
        state.close()
        get_config.cache_clear()
    [(victim, pid)] = killed
    records = {s["id"]: s for s in state_lines(tmp_path / "out")}
    assert {r["status"] for r in records.values()} == {"done"}, records
    assert records[victim]["attempts"] == 2 and records[victim]["frames"] == 48
    assert all(r["attempts"] == 1 for i, r in records.items() if i != victim)
    local = InProcessTasks(get_config(), [demo_dir / "media"])  # the same video, never interrupted, here
    try:
        expected = local.run("track", requests[victim], "mot").body
    finally:
        local.close()
    assert (tmp_path / "out" / victim / "track.txt").read_bytes() == expected


@pytest.mark.skipif(shutil.which("java") is None, reason="PySpark needs a JVM (java on PATH)")
def test_the_spark_recipe_detects_every_video_of_the_manifest(dataset, tmp_path):
    out = tmp_path / "spark"
    run = subprocess.run([sys.executable, str(SPARK_RECIPE), dataset["url"], str(dataset["manifest"]), str(out)],
                         env={**os.environ, "PYSPARK_PYTHON": sys.executable}, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [json.loads(line) for part in sorted(out.glob("part-*.json")) for line in part.read_text().splitlines()]
    by_video = {Path(row["video"]).name: row for row in rows}
    assert len(rows) == len(by_video) == 10
    assert json.loads(by_video["missing.mp4"]["error"])["error"] == "Not Found"
    assert json.loads(by_video["not-a-video.mp4"]["error"])["error"] == "Unprocessable Video"
    answered = {name: json.loads(row["result"]) for name, row in by_video.items() if row.get("result")}
    assert len(answered) == 8
    shapes = next(Path(row["video"]) for name, row in by_video.items() if name == "shapes.mp4")
    direct = httpx.post(f"{dataset['url']}/api/detect", json={**SPARK_PARAMS, "video_path": str(shapes)},
                        timeout=300).json()
    assert answered["shapes.mp4"]["detections"] == direct["detections"]
    assert [f["frame_number"] for f in direct["detections"]] == list(range(0, 250, 10))
