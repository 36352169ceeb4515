"""/api/summarize on a real `bentoml serve` of the demo: every vision-language family's tiny random model summarizes
through the transformers engine (real classes, processors, chat templates, schema-constrained decoding), the
sampling strategies, the persona, the context budget, and one load for two names with one checkpoint."""

from __future__ import annotations

import base64
import io
import json
import math

import pytest
from PIL import Image

from runners.language.summarize import summary_schema
from services.schemas import ModelsInfoResponse, SummarizeResponse
from tests.support.api import assert_envelope
from tests.support.waiting import ask_then_hang_up, wait_for

pytestmark = pytest.mark.integration

VLM_NAMES = ["llama-4-maverick", "gemma-3-27b", "internvl3-78b", "pixtral-large", "qwen2-5-vl-72b"]


def summarize(client, **fields):
    return client.post("/api/summarize", json={"video_id": "shapes", "max_new_tokens": 200, **fields})


@pytest.mark.parametrize("name", VLM_NAMES)
def test_each_vision_language_family_summarizes(client, demo_truth, name):
    response = summarize(client, model=name, frame_count=4, persona_context="A traffic analyst counting shapes.",
                         persona_id="analyst-7")
    assert response.status_code == 200, response.text
    body = SummarizeResponse.model_validate(response.json())
    assert (body.visual_model_used, body.engine, body.persona_id, body.video_id) == (name, "transformers",
                                                                                       "analyst-7", "shapes")
    assert body.persona_applied and body.sampling_strategy == "uniform"
    assert len(body.sampled_frames) == 4 and body.sampled_frames == sorted(set(body.sampled_frames))
    assert all(0 <= n < len(demo_truth["frames"]) for n in body.sampled_frames)
    fps = demo_truth["fps"]
    for key_frame in body.key_frames:  # only frames the model was shown, at their own times
        assert key_frame.frame_number in body.sampled_frames
        assert key_frame.timestamp == pytest.approx(key_frame.frame_number / fps, abs=1e-3)
        assert key_frame.confidence is None or 0 < key_frame.confidence <= 1
    assert body.confidence is not None and 0 < body.confidence <= 1  # from the tokens of the summary
    assert 0 < body.tokens_generated <= 200


@pytest.mark.parametrize("strategy", ["uniform", "keyframe", "adaptive"])
def test_sampling_strategies_stay_in_the_frame_range(client, strategy):
    response = summarize(client, model="qwen2-5-vl-72b", frame_count=6, sampling_strategy=strategy,
                         frame_range={"start": 100, "end": 199}, complexity_metric="motion")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sampling_strategy"] == strategy and not body["persona_applied"]
    assert len(body["sampled_frames"]) == 6 and all(100 <= n <= 199 for n in body["sampled_frames"])


def test_a_structured_persona_is_applied(client):
    persona = {"role": "scout", "information_need": "which shapes move", "ontology_context": {"entity_types": ["Disk"]}}
    response = summarize(client, model="qwen2-5-vl-72b", frame_count=2, persona=persona)
    assert response.status_code == 200 and response.json()["persona_applied"] is True


def test_too_many_frames_for_the_context_is_a_400_that_says_how_many_fit(client):
    """The tiny models have a 2048-token context; 2000 tokens kept for the answer leave room for few frames."""
    body = assert_envelope(summarize(client, model="qwen2-5-vl-72b", frame_count=64, max_new_tokens=2000), 400,
                           "frames fit")
    fit = body["details"]["frames_that_fit"]
    assert 0 <= fit < 64 and body["details"]["context_length"] == 2048
    if fit:  # that many frames do fit
        assert summarize(client, model="qwen2-5-vl-72b", frame_count=fit, max_new_tokens=2000).status_code == 200


def test_bad_summarize_requests(client, demo_video):
    assert_envelope(summarize(client, model="llama-3-3-70b"), 400, "unknown video summarization model")
    assert_envelope(summarize(client, model="qwen2-5-vl-72b", frame_range={"start": 10_000, "end": 10_010}), 400)
    assert_envelope(summarize(client, frame_count=0), 400)
    assert_envelope(summarize(client, sampling_strategy="random"), 400)
    assert_envelope(client.post("/api/summarize", json={"video_id": "no-such-video"}), 404)


def test_one_checkpoint_under_two_names_is_loaded_once(client):
    assert summarize(client, model="gemma-3-27b", frame_count=2).status_code == 200
    info = ModelsInfoResponse.model_validate(client.get("/models/info").json())
    assert info.models["gemma-3-27b"].loaded and info.models["gemma-3-27b-text"].loaded
    assert info.models["gemma-3-27b"].engine == "transformers"
    language = client.get("/health").json()["runners"]["language"]
    assert language["models"]["gemma-3-27b-text"]["loaded_as"] == "gemma-3-27b"
    unloaded = client.post("/models/unload", json={"model_id": "gemma-3-27b-text"})
    assert unloaded.status_code == 200 and unloaded.json()["status"] == "unloaded"
    info = client.get("/models/info").json()
    assert not info["models"]["gemma-3-27b"]["loaded"] and not info["models"]["gemma-3-27b-text"]["loaded"]


# -- the engine edge: an OpenAI-compatible endpoint (what SGLang, vLLM and shared clusters speak) -----------------
def test_the_engine_receives_the_frames_in_order_and_the_schema(stub_service, demo_video):
    client, stub = stub_service
    answer = {"summary": "Shapes drift.", "visual_analysis": "Four shapes.",
              "key_frames": [{"frame_index": 2, "description": "a crossing"}, {"frame_index": 0, "description": "x"}]}
    text = json.dumps(answer)
    unsure = text.index('"x"')
    stub.answers.append({"content": text, "logprobs": [(c, -1.0 if unsure <= i < unsure + 3 else -0.1)
                                                       for i, c in enumerate(text)]})
    response = client.post("/api/summarize", json={
        "video_path": str(demo_video), "model": "remote-vlm", "frame_count": 3, "persona_context": "A coach.",
        "max_new_tokens": 333, "temperature": 0.4})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["engine"] == "openai" and body["summary"] == "Shapes drift." and body["persona_applied"] is True
    sampled = body["sampled_frames"]
    assert [k["frame_number"] for k in body["key_frames"]] == [sampled[2], sampled[0]]
    assert body["key_frames"][0]["confidence"] == pytest.approx(math.exp(-0.1))
    assert body["key_frames"][1]["confidence"] == pytest.approx(math.exp(-1.0))

    sent = stub.requests[-1]
    assert (sent["model"], sent["max_tokens"], sent["temperature"], sent["logprobs"]) == (
        "org/remote-vlm", 333, 0.4, True)
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == summary_schema(3)
    system, user = sent["messages"]
    assert system["role"] == "system" and "A coach." in user["content"][-1]["text"]
    parts = user["content"][:-1]
    captions = [p["text"] for p in parts if p["type"] == "text"]
    assert captions == [f"Frame {i} (video frame {n}, {n / 25:.2f} s):" for i, n in enumerate(sampled)]
    images = [Image.open(io.BytesIO(base64.b64decode(p["image_url"]["url"].split(",", 1)[1])))
              for p in parts if p["type"] == "image_url"]
    assert [p["type"] for p in parts] == ["text", "image_url"] * 3
    assert all(image.format == "JPEG" and max(image.size) == 320 for image in images)  # 640x384 -> max_image_side


def prompt_texts(sent: dict) -> list[str]:
    """The texts of the messages an engine received: the system turn, the user turn's captions and text."""
    return [part["text"] if isinstance(part, dict) else part for message in sent["messages"]
            for part in ([message["content"]] if isinstance(message["content"], str) else message["content"])
            if not isinstance(part, dict) or part["type"] == "text"]


@pytest.mark.parametrize("persona", [None, {"role": "scout", "information_need": "which shapes move"}])
def test_persona_applied_says_whether_the_engine_was_shown_the_persona(stub_service, demo_video, persona):
    client, stub = stub_service
    fields = {"persona": persona} if persona else {}
    response = client.post("/api/summarize", json={"video_path": str(demo_video), "model": "remote-vlm",
                                                   "frame_count": 2, **fields})
    assert response.status_code == 200, response.text
    prompt = "\n".join(prompt_texts(stub.requests[-1]))
    shown = "Role: scout\nInformation need: which shapes move" in prompt
    assert response.json()["persona_applied"] is shown  # what the answer says is what the engine was sent
    assert shown is (persona is not None)


def test_engine_refusals_and_invalid_answers(stub_service, demo_video):
    client, stub = stub_service
    request = {"video_path": str(demo_video), "model": "remote-vlm", "frame_count": 2}
    stub.answers.append({"status": 400, "content": "This model's maximum context length is 128 tokens"})
    assert_envelope(client.post("/api/summarize", json=request), 400, "maximum context length")
    stub.answers.extend([{"content": "not json"}, {"content": "{still not"}])
    assert_envelope(client.post("/api/summarize", json=request), 503, "two tries")
    stub.answers.append({"status": 500, "content": "engine crashed"})
    assert_envelope(client.post("/api/summarize", json=request), 503, "answered 500")


def summarize_then_leave(client, until) -> None:
    """Ask the stub-served model for a summary and hang up once `until()` holds, before the answer."""
    ask_then_hang_up(str(client.base_url), "/api/summarize",
                     {"video_id": "shapes", "model": "remote-vlm", "frame_count": 2}, until)


def test_a_client_that_leaves_mid_answer_stops_the_engine_generating(stub_service):
    """The answer streams slowly (500 tokens, 25 s); the client leaves once tokens flow: the engine's connection is
    closed at the next token, long before the answer's end (SGLang and vLLM abort the generation then)."""
    client, stub = stub_service
    aborted, sent = stub.aborted, stub.tokens_sent
    stub.answers.append({"content": json.dumps({"summary": "x" * 2000}), "token_delay": 0.05})

    def tokens_flow():
        return stub.tokens_sent > sent

    summarize_then_leave(client, until=tokens_flow)

    def engine_aborted():
        return stub.aborted != aborted

    wait_for(engine_aborted)
    assert stub.aborted == aborted + 1 and stub.tokens_sent - sent < 400
    stub.answers.clear()


def test_a_client_that_disconnects_stops_the_job(stub_service):
    """The engine's first answer is not JSON and slow; the client leaves meanwhile: no second try is made."""
    client, stub = stub_service

    def cancelled() -> int:
        return client.get("/health").json()["runners"]["language"]["jobs_cancelled"]

    before, asked = cancelled(), len(stub.requests)
    stub.answers.extend([{"content": "not json", "delay": 10.0}, {"content": "{}"}])

    def engine_asked():
        return len(stub.requests) > asked

    summarize_then_leave(client, until=engine_asked)

    def job_cancelled():
        return cancelled() != before

    wait_for(job_cancelled)
    assert cancelled() == before + 1 and len(stub.requests) == asked + 1
    stub.answers.clear()
