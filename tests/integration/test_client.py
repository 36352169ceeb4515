"""The generated Python client (clients/python, from openapi.json) drives every route of a live `bentoml serve` of
the demo: requests built from its models, answers parsed into its models, errors into the envelope's model."""

from __future__ import annotations

import json

import pytest

from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

client_package = pytest.importorskip("video_model_client", reason="pip install -e clients/python (make install)")
from video_model_client import Client  # noqa: E402
from video_model_client.api.health import health  # noqa: E402
from video_model_client.api.infrastructure import get_readyz  # noqa: E402
from video_model_client.api.models import load, models_info, unload  # noqa: E402
from video_model_client.api.tasks import augment, detect, summarize, track  # noqa: E402
from video_model_client.models import (  # noqa: E402
    AugmentRequest,
    AugmentResponse,
    DetectRequest,
    DetectResponse,
    ErrorResponse,
    ExistingOntology,
    FrameRange,
    HealthResponse,
    LoadResponse,
    ModelRequest,
    ModelsInfoResponse,
    SummarizeRequest,
    SummarizeResponse,
    TrackRequest,
    TrackResponse,
    UnloadResponse,
)


@pytest.fixture(scope="module")
def api(service):
    with Client(base_url=service["url"], timeout=600, raise_on_unexpected_status=True) as client:
        yield client


def test_health_and_models(api):
    assert get_readyz.sync_detailed(client=api).status_code == 200
    status = health.sync(client=api)
    assert isinstance(status, HealthResponse) and status.status.value == "healthy"
    info = models_info.sync(client=api)
    assert isinstance(info, ModelsInfoResponse)
    assert "yolo11n" in info.available_models["object_detection"]
    assert info.models["qwen2-5-vl-72b"].task == "video_summarization"


def test_load_detect_and_unload(api, demo_video):
    loaded = load.sync(client=api, body=ModelRequest(model_id="yolo11n"))
    assert isinstance(loaded, LoadResponse) and loaded.status == "loaded"
    found = detect.sync(client=api, body=DetectRequest(video_path=str(demo_video), frame_numbers=[0, 50],
                                                       model="yolo11n"))
    assert isinstance(found, DetectResponse) and [f.frame_number for f in found.detections] == [0, 50]
    assert found.total_detections > 0 and found.detections[0].objects[0].label in {"circle", "square", "triangle"}
    unloaded = unload.sync(client=api, body=ModelRequest(model_id="yolo11n"))
    assert isinstance(unloaded, UnloadResponse) and unloaded.status == "unloaded"


def test_track(api, demo_dir):
    tracks = track.sync(client=api, body=TrackRequest(video_path=str(demo_dir / "media" / "tracking.mp4"),
                                                      model="yolo11n-seg", frame_range=FrameRange(start=0, end=20)))
    assert isinstance(tracks, TrackResponse) and tracks.total_tracks == len(tracks.tracks) > 0
    assert all(0 <= box.frame_number <= 20 for t in tracks.tracks for box in t.boxes)


def test_summarize_and_augment(api):
    summary = summarize.sync(client=api, body=SummarizeRequest(video_id="shapes", model="qwen2-5-vl-72b",
                                                               frame_count=2, max_new_tokens=200))
    assert isinstance(summary, SummarizeResponse) and summary.engine == "transformers"
    assert len(summary.sampled_frames) == 2
    suggestions = augment.sync(client=api, body=AugmentRequest(
        persona_name="scout", existing_ontology=ExistingOntology(entity_types=["Player"]), model="llama-3-3-70b",
        max_suggestions_per_type=1, include_examples=False))
    assert isinstance(suggestions, AugmentResponse) and suggestions.total_suggestions <= 4


def test_errors_come_back_as_the_envelope_model(api):
    refused = detect.sync_detailed(client=api, body=DetectRequest(video_id="no-such-video", frame_numbers=[0]))
    assert refused.status_code == 404 and isinstance(refused.parsed, ErrorResponse)
    assert refused.parsed.details["request_id"] and "no-such-video" in refused.parsed.message
    unknown = load.sync_detailed(client=api, body=ModelRequest(model_id="no-such-model"))
    assert unknown.status_code == 404 and isinstance(unknown.parsed, ErrorResponse)


def test_the_served_document_is_the_published_contract(service):
    import json

    import httpx

    from scripts.export_openapi import TARGET

    served = httpx.get(f"{service['url']}/docs.json", timeout=30).json()
    assert served == json.loads(TARGET.read_text()), "run `make openapi` and commit openapi.json"


def test_a_job_from_submit_to_result(api, demo_video):
    from video_model_client.api.jobs import get_job, job_result, submit_job
    from video_model_client.models import JobResponse, JobSubmit, JobSubmitRequest, JobSubmitTask

    request = DetectRequest(video_path=str(demo_video), frame_range=FrameRange(start=0, end=40), stride=20,
                            model="yolo11n")
    body = JobSubmit(task=JobSubmitTask.DETECT, request=JobSubmitRequest.from_dict(request.to_dict()))
    job = submit_job.sync(client=api, body=body, idempotency_key="client-test")
    assert isinstance(job, JobResponse) and job.task.value == "detect"

    def succeeded():
        """the job succeeded"""
        current = get_job.sync(client=api, job_id=job.job_id)
        assert isinstance(current, JobResponse) and current.status.value not in ("failed", "cancelled")
        return current.status.value == "succeeded"
    wait_for(succeeded)
    result = job_result.sync_detailed(client=api, job_id=job.job_id)
    found = DetectResponse.from_dict(json.loads(result.content))
    assert [f.frame_number for f in found.detections] == [0, 20, 40]
