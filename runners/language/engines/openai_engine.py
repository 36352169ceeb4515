"""An engine reached through the OpenAI chat-completions API: SGLang and vLLM processes the runner starts, or an
already-running shared endpoint (`framework: openai`, `base_url`).

Frames travel as JPEG `image_url` data URIs in the order given, each after its caption; a JSON schema goes in
`response_format` (`json_schema`), which both engines enforce — never the old `guided_json`, which vLLM silently
ignores. Answers are streamed (token log-probabilities and usage come in the chunks) so that a stopped job can
close the connection mid-generation.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Sequence

import httpx
import numpy as np

from runners.core.errors import BadRequest, Cancelled, ModelUnavailable
from runners.language.engines.chat import ChatRequest, ChatResult, parse_json_answer

JPEG_QUALITY = 90


def image_data_uri(frame: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def build_messages(request: ChatRequest) -> list[dict]:
    """System turn, then one user turn: each image after its caption, then the text."""
    content: list[dict] = []
    captions: Sequence[str | None] = request.image_captions or [None] * len(request.images)
    for caption, frame in zip(captions, request.images, strict=True):
        if caption:
            content.append({"type": "text", "text": caption})
        content.append({"type": "image_url", "image_url": {"url": image_data_uri(frame)}})
    content.append({"type": "text", "text": request.text})
    messages = [{"role": "system", "content": request.system}] if request.system else []
    return messages + [{"role": "user", "content": content}]


def request_body(request: ChatRequest, model: str) -> dict:
    """The chat-completions parameters for `request` (what the engine receives, apart from the messages)."""
    body = {"model": model, "messages": build_messages(request), "max_tokens": request.max_new_tokens,
            "temperature": request.temperature}
    if request.logprobs:
        body["logprobs"] = True
    if request.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": request.schema_name, "schema": request.json_schema, "strict": True}}
    return body


class OpenAIEngine:
    def __init__(self, name: str, base_url: str, model: str, api_key_env: str | None = None,
                 timeout_s: float = 600.0) -> None:
        import openai

        self.name, self.base_url, self.model = name, base_url, model
        api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        # The client insists on a key; local engines ignore it.
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s,
                                    max_retries=0)

    def chat(self, request: ChatRequest) -> ChatResult:
        """Streamed, so that a job that stops (its client left, its time ran out) closes the connection at the next
        token: SGLang and vLLM abort a generation whose client is gone, which frees the engine for other requests."""
        import openai

        parts: list[str] = []  # the answer's text, as it streams in
        logprobs: list[tuple[str, float]] = []
        finish_reason, usage = None, None
        try:
            stream = self.client.chat.completions.create(**request_body(request, self.model), stream=True,
                                                         stream_options={"include_usage": True})
            with stream:  # leaving the block, by a return or a raise, closes the connection
                for chunk in stream:
                    if request.cancelled is not None and request.cancelled():
                        raise Cancelled()
                    usage = chunk.usage or usage
                    for choice in chunk.choices:
                        parts.append(choice.delta.content or "")
                        if choice.logprobs is not None and choice.logprobs.content:
                            logprobs += [(item.token, float(item.logprob)) for item in choice.logprobs.content]
                        finish_reason = choice.finish_reason or finish_reason
        except openai.BadRequestError as exc:  # e.g. a prompt longer than the engine's context
            raise BadRequest(f"the {self.name} engine refused the request: {str(exc.message)[:300]}",
                             model=self.model, engine=self.name) from None
        except openai.APIStatusError as exc:
            raise ModelUnavailable(f"{self.name} engine at {self.base_url} answered {exc.status_code}: "
                                   f"{str(exc.message)[:300]}", model=self.model, engine=self.name) from None
        except openai.APIError as exc:
            raise ModelUnavailable(f"{self.name} engine at {self.base_url} is unreachable: {exc}", model=self.model,
                                   engine=self.name) from None
        text = "".join(parts)
        if logprobs and "".join(token for token, _ in logprobs) == text + logprobs[-1][0]:
            logprobs.pop()  # the stop token, which vLLM reports and the text leaves out
        result = ChatResult(text=text, engine=self.name, model=self.model,
                            tokens_generated=usage.completion_tokens if usage else len(logprobs),
                            prompt_tokens=usage.prompt_tokens if usage else None, token_logprobs=logprobs or None)
        if request.json_schema is not None:
            result.data = parse_json_answer(text, cut_at=request.max_new_tokens if finish_reason == "length"
                                            else None)
        return result

    def count_tokens(self, request: ChatRequest) -> int | None:
        """vLLM's `/tokenize` applies the chat template with the images' placeholders expanded; an engine without it
        (SGLang, most shared endpoints) gives None, and then the engine itself refuses a prompt that is too long."""
        try:
            reply = httpx.post(f"{self.base_url.rstrip('/').removesuffix('/v1')}/tokenize", timeout=60,
                               headers={"Authorization": f"Bearer {self.client.api_key}"},
                               json={"model": self.model, "messages": build_messages(request)})
            reply.raise_for_status()
            return int(reply.json()["count"])
        except Exception:  # noqa: BLE001 — any failure means "cannot count here"
            return None

    def context_length(self) -> int | None:
        """`max_model_len` from the engine's model list (vLLM and SGLang report it); None when absent."""
        try:
            for model in self.client.models.list().data:
                # an extra field of vLLM's and SGLang's, which the client's Model type does not declare
                max_model_len = getattr(model, "max_model_len", None)
                if model.id == self.model and max_model_len:
                    return int(max_model_len)
        except Exception:  # noqa: BLE001 — an endpoint without the field or the route
            return None
        return None

    def close(self) -> None:
        self.client.close()
