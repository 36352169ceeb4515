"""The OpenAI-compatible engine adapter against a local stub that records what it receives: images in order as
data URIs after their captions, the schema in `response_format`, sampling parameters, the API key; answers parsed
with token counts and log-probabilities; engine failures are 503s that name the endpoint."""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from runners.core.errors import Cancelled, ModelUnavailable
from runners.language.engines.chat import ChatRequest, InvalidAnswer
from runners.language.engines.openai_engine import OpenAIEngine, build_messages
from tests.support.stub_openai import StubOpenAI
from tests.support.waiting import wait_for

SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}


@pytest.fixture
def stub():
    server = StubOpenAI()
    yield server
    server.close()


def frames(count: int) -> list[np.ndarray]:
    """Frames told apart by their size and colour."""
    return [np.full((40 + 8 * i, 64, 3), 30 * i, dtype=np.uint8) for i in range(count)]


def decode(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/jpeg;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_images_travel_in_order_after_their_captions_and_the_schema_in_response_format(stub, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "secret-123")
    stub.answers.append({"content": json.dumps({"summary": "two shapes"}),
                         "logprobs": [('{"summary": "', -0.01), ("two", -0.2), (" shapes", -0.4), ('"}', -0.01)]})
    engine = OpenAIEngine("vllm", stub.url, "org/model", api_key_env="STUB_KEY")
    request = ChatRequest(text="Summarize for a coach.", system="You are precise.", images=frames(3),
                          image_captions=[f"frame {n}" for n in (0, 40, 80)], json_schema=SCHEMA,
                          max_new_tokens=77, temperature=0.3)
    result = engine.chat(request)

    [body] = stub.requests
    assert stub.headers[0]["authorization"] == "Bearer secret-123"
    assert body["model"] == "org/model" and body["max_tokens"] == 77 and body["temperature"] == 0.3
    assert body["logprobs"] is True and "guided_json" not in body and "extra_body" not in body
    assert body["response_format"] == {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True}}
    system, user = body["messages"]
    assert system == {"role": "system", "content": "You are precise."}
    kinds = [part["type"] for part in user["content"]]
    assert kinds == ["text", "image_url"] * 3 + ["text"]
    assert [p["text"] for p in user["content"][0:6:2]] == ["frame 0", "frame 40", "frame 80"]
    for i, part in enumerate(user["content"][1:6:2]):
        image = decode(part["image_url"]["url"])
        assert image.shape == (40 + 8 * i, 64, 3) and abs(int(image.mean()) - 30 * i) <= 2
    assert user["content"][-1]["text"] == "Summarize for a coach."

    assert result.data == {"summary": "two shapes"} and result.engine == "vllm"
    assert result.tokens_generated == 4 and result.prompt_tokens == 100
    start = result.text.index("two shapes")
    assert result.span_confidence(start, start + len("two shapes")) == pytest.approx(math.exp((-0.2 - 0.4) / 2))


def test_without_a_schema_or_logprobs_the_text_comes_back_as_is(stub):
    stub.answers.append({"content": "plain words"})
    result = OpenAIEngine("sglang", stub.url, "m").chat(ChatRequest(text="hi", logprobs=False))
    assert "response_format" not in stub.requests[0] and "logprobs" not in stub.requests[0]
    assert stub.requests[0]["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert result.text == "plain words" and result.data is None
    assert result.token_logprobs is None and result.span_confidence(0, 5) is None


def test_an_answer_that_is_not_json_is_reported_for_a_retry(stub):
    stub.answers.append({"content": '{"summary": "cut off'})
    with pytest.raises(InvalidAnswer, match="not valid JSON"):
        OpenAIEngine("vllm", stub.url, "m").chat(ChatRequest(text="x", json_schema=SCHEMA))


def test_engine_errors_are_503s_that_name_the_endpoint(stub):
    stub.answers.append({"status": 500, "content": "CUDA out of memory"})
    with pytest.raises(ModelUnavailable, match="answered 500") as info:
        OpenAIEngine("vllm", stub.url, "m").chat(ChatRequest(text="x"))
    assert stub.url in info.value.message and info.value.status == 503
    with pytest.raises(ModelUnavailable, match="unreachable"):
        OpenAIEngine("vllm", "http://127.0.0.1:9/v1", "m", timeout_s=2).chat(ChatRequest(text="x"))


def test_answers_are_streamed_and_a_cancelled_one_closes_the_connection(stub):
    """The engine sees its client go at the next token (SGLang and vLLM then abort the generation)."""
    stub.answers.append({"content": "x" * 400, "token_delay": 0.05})  # 100 tokens, 5 s
    with pytest.raises(Cancelled):  # the job stops once tokens flow
        OpenAIEngine("vllm", stub.url, "m").chat(ChatRequest(text="a long answer",
                                                             cancelled=lambda: stub.tokens_sent >= 3))

    def engine_aborted():
        return stub.aborted

    wait_for(engine_aborted)
    assert stub.requests[0]["stream"] is True and stub.requests[0]["stream_options"] == {"include_usage": True}
    assert stub.aborted == 1 and 0 < stub.tokens_sent < 100


def test_a_streamed_answer_cut_at_max_new_tokens_is_reported_as_cut(stub):
    stub.answers.append({"content": '{"summary": "cut', "finish_reason": "length"})
    with pytest.raises(InvalidAnswer) as info:
        OpenAIEngine("vllm", stub.url, "m").chat(ChatRequest(text="x", json_schema=SCHEMA, max_new_tokens=4))
    assert info.value.cut


def test_images_and_captions_must_pair_up():
    with pytest.raises(ValueError):
        build_messages(ChatRequest(text="x", images=frames(2), image_captions=["only one"]))
