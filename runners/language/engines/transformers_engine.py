"""An engine that runs a transformers checkpoint in this process: a vision-language model (AutoProcessor +
AutoModelForImageTextToText) or a text model (AutoTokenizer + AutoModelForCausalLM).

The prompt is built by the checkpoint's own chat template, in the same order as the OpenAI adapter: the system turn,
then one user turn with each image after its caption, then the text. A JSON schema is enforced with an xgrammar
logits processor (grammars compiled once per schema and cached); per-token log-probabilities come from the scores
`generate` returns, i.e. after the grammar mask and the sampling warpers, so they are the probabilities of the
distribution each token was actually chosen from.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from runners.core.errors import BadRequest, Cancelled, ModelUnavailable
from runners.core.hf import from_pretrained
from runners.language.engines.chat import ChatRequest, ChatResult, parse_json_answer
from runners.language.engines.hf_patches import runtime_patches

if TYPE_CHECKING:
    import xgrammar

# Tokens decoded before the first new one when cutting the output into per-token texts: enough for SentencePiece's
# leading-space rule and byte-level merges to see their neighbours.
DECODE_CONTEXT = 6
# A UTF-8 character is at most 4 bytes: a prefix ending in U+FFFD is waited on for at most this many more tokens.
MAX_PENDING_TOKENS = 3
# Temperatures below this decode greedily (vLLM's rule): dividing the logits by a tiny positive temperature (the fuzzer
# sent 3.6e-157) overflows them to inf, and sampling then fails ("probability tensor contains inf") with a 503.
GREEDY_BELOW = 1e-5
DTYPES = {"auto": "auto", "float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
          "half": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16"}


def token_texts(decode: Callable[[list[int]], str], ids: list[int]) -> list[str]:
    """One text per token id such that their concatenation is `decode(ids)` whenever decoding is prefix-stable
    (byte-level BPE always is; SentencePiece is, since its one leading space is only stripped at the very start).

    Each token's text is the growth of the decoded text of a short window ending at that token — not the token
    decoded alone, which would lose SentencePiece's spaces and turn each byte of a multi-byte character into
    U+FFFD. A character split over several tokens goes to the token that completes it (the others get ""), unless
    no completion comes within MAX_PENDING_TOKENS tokens (a truly invalid byte sequence), when it is emitted as is.
    """
    texts: list[str] = []
    emitted = 0  # ids[:emitted] have their text in `texts`
    for index in range(len(ids)):
        start = max(0, emitted - DECODE_CONTEXT)
        before = decode(ids[start:emitted]) if emitted > start else ""
        after = decode(ids[start:index + 1])
        waiting = index - emitted < MAX_PENDING_TOKENS and index + 1 < len(ids)
        if after.endswith("\ufffd") and waiting:
            texts.append("")  # an incomplete character: its text goes to the token that completes it
            continue
        texts.append(after[len(before):] if after.startswith(before) else decode(ids[emitted:index + 1]))
        emitted = index + 1
    return texts


def token_logprobs(scores: list[Any], ids: list[int]) -> list[float]:
    """log p(token) under each step's processed scores (grammar mask, temperature, top-k/top-p applied)."""
    import torch

    values = []
    for step, token_id in zip(scores, ids, strict=True):
        logprob = float(torch.log_softmax(step[0].float(), dim=-1)[token_id])
        values.append(logprob if math.isfinite(logprob) else -1e9)  # a forced token outside the processed support
    return values


class StopWhen:
    """A stopping criterion for `generate`: stop every sequence once `cancelled()` (checked after each token)."""

    def __init__(self, cancelled: Callable[[], bool]) -> None:
        self.cancelled = cancelled

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        return torch.full((input_ids.shape[0],), self.cancelled(), dtype=torch.bool, device=input_ids.device)


class TransformersEngine:
    name = "transformers"

    def __init__(self, model_name: str, model_id: str, device: str, *, vision: bool = True, quantization: str = "none",
                 dtype: str = "auto") -> None:
        import torch
        import transformers

        self._torch = torch
        self.model_name, self.model_id, self.device, self.vision = model_name, model_id, device, vision
        self.quantization = quantization
        runtime_patches()  # transformers bugs on some families (runners/language/engines/hf_patches.py)
        if dtype not in DTYPES:
            raise BadRequest(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}", model=model_name)
        kwargs: dict[str, Any] = {"dtype": "auto" if dtype == "auto" else getattr(torch, DTYPES[dtype])}
        quantization_config = self._quantization_config(quantization)
        if quantization_config is not None:
            # bitsandbytes weights cannot be moved after loading: place them while loading.
            kwargs.update(quantization_config=quantization_config, device_map={"": device})

        processor_class: type[transformers.AutoProcessor] | type[transformers.AutoTokenizer]
        model_class: type[transformers.AutoModelForImageTextToText] | type[transformers.AutoModelForCausalLM]
        if vision:
            processor_class, model_class = transformers.AutoProcessor, transformers.AutoModelForImageTextToText
        else:
            processor_class, model_class = transformers.AutoTokenizer, transformers.AutoModelForCausalLM
        self.processor = _load(processor_class.from_pretrained, model_id, model_name)
        self.tokenizer = getattr(self.processor, "tokenizer", None) or self.processor
        try:
            model = _load(lambda path: model_class.from_pretrained(path, **kwargs), model_id, model_name)
            if quantization_config is None:
                model = model.to(device)
        except torch.OutOfMemoryError:
            raise ModelUnavailable(f"{model_name} ({model_id}) does not fit in the memory of {device}: use "
                                   f"quantization 4bit/8bit, a smaller model or another device",
                                   model=model_name, engine=self.name) from None
        self.model = model.eval()

        generation_config = self.model.generation_config
        eos = generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        self.eos_token_ids = [eos] if isinstance(eos, int) else list(eos or [])
        pad = generation_config.pad_token_id
        if pad is None:
            pad = self.tokenizer.pad_token_id
        self.pad_token_id = pad if pad is not None else (self.eos_token_ids[0] if self.eos_token_ids else None)

        self._lock = threading.Lock()
        self._grammar_compiler: xgrammar.GrammarCompiler | None = None  # made on the first schema
        self._grammars: dict[str, Any] = {}  # schema (canonical JSON) -> xgrammar CompiledGrammar
        self.grammar_compilations = 0

    def _quantization_config(self, quantization: str):
        if quantization in ("none", "", None):
            return None
        if quantization not in ("4bit", "8bit"):
            return None  # other schemes (awq, gptq, fp8...) are in the checkpoint's own config
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ModelUnavailable(f"{self.model_name} is configured with quantization {quantization}, which needs "
                                   f"bitsandbytes: `pip install bitsandbytes`", model=self.model_name,
                                   engine=self.name)
        import transformers

        if quantization == "4bit":
            return transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                   bnb_4bit_compute_dtype=self._torch.bfloat16)
        return transformers.BitsAndBytesConfig(load_in_8bit=True)

    # -- prompt ------------------------------------------------------------------------------------------------
    def messages(self, request: ChatRequest) -> list[dict]:
        """System turn, then one user turn: each image after its caption, then the text (transformers 5 content
        parts; a text model gets plain strings, which every text chat template understands)."""
        if not self.vision:
            if request.images:
                raise BadRequest(f"{self.model_name} is a text model: it cannot take images", model=self.model_name)
            system: list[dict[str, Any]] = [{"role": "system", "content": request.system}] if request.system else []
            return system + [{"role": "user", "content": request.text}]
        from PIL import Image

        captions: Sequence[str | None] = request.image_captions or [None] * len(request.images)
        if len(captions) != len(request.images):
            raise BadRequest(f"{len(captions)} captions for {len(request.images)} images", model=self.model_name)
        content: list[dict] = []
        for caption, frame in zip(captions, request.images, strict=True):
            if caption:
                content.append({"type": "text", "text": caption})
            content.append({"type": "image", "image": Image.fromarray(frame).convert("RGB")})
        content.append({"type": "text", "text": request.text})
        system = [{"role": "system", "content": [{"type": "text", "text": request.system}]}] if request.system else []
        return system + [{"role": "user", "content": content}]

    def tokenize(self, request: ChatRequest):
        return self.processor.apply_chat_template(self.messages(request), add_generation_prompt=True, tokenize=True,
                                                  return_dict=True, return_tensors="pt")

    def count_tokens(self, request: ChatRequest) -> int:
        """The prompt's exact length: the chat template with every image's placeholder tokens expanded."""
        return int(self.tokenize(request)["input_ids"].shape[-1])

    def context_length(self) -> int | None:
        """How many tokens prompt + answer may take: the text model's position table."""
        return getattr(self.model.config.get_text_config(), "max_position_embeddings", None)

    def encode(self, request: ChatRequest):
        inputs = self.tokenize(request)
        model = self.model
        moved = {}
        for key, value in inputs.items():
            if hasattr(value, "to"):
                value = value.to(model.device)
                if value.is_floating_point() and model.dtype.is_floating_point:
                    value = value.to(model.dtype)  # pixel values in the model's dtype
            moved[key] = value
        return moved

    # -- JSON schema -------------------------------------------------------------------------------------------
    def grammar(self, schema: dict):
        """The compiled grammar of `schema`, compiled once per schema. The key keeps the schema's own key order: the
        grammar makes the model write properties in that order (the summary before the key frames), so two schemas
        that differ only in order are different grammars."""
        import xgrammar

        key = json.dumps(schema)
        compiled = self._grammars.get(key)
        if compiled is None:
            if self._grammar_compiler is None:
                info = xgrammar.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.vocab_size(),
                                                               stop_token_ids=self.eos_token_ids or None)
                self._grammar_compiler = xgrammar.GrammarCompiler(info)
            try:
                # Compact JSON: a weak model cannot then spend its token budget on whitespace.
                compiled = self._grammar_compiler.compile_json_schema(key, any_whitespace=False)
            except Exception as exc:  # xgrammar raises RuntimeError/ValueError on schemas it does not support
                raise BadRequest(f"the JSON schema cannot be enforced: {exc}", model=self.model_name) from None
            self._grammars[key] = compiled
            self.grammar_compilations += 1
        return compiled

    def vocab_size(self) -> int:
        """The width of the logits (can exceed the tokenizer's vocabulary: padded embeddings)."""
        output = self.model.get_output_embeddings()
        if output is not None and getattr(output, "weight", None) is not None:
            return int(output.weight.shape[0])
        return int(self.model.config.get_text_config().vocab_size)

    # -- generation --------------------------------------------------------------------------------------------
    def chat(self, request: ChatRequest) -> ChatResult:
        torch = self._torch
        if self.model is None:
            raise ModelUnavailable(f"{self.model_name} has been unloaded", model=self.model_name, engine=self.name)
        inputs = self.encode(request)
        prompt_tokens = int(inputs["input_ids"].shape[-1])
        options: dict[str, Any] = {"max_new_tokens": request.max_new_tokens, "eos_token_id": self.eos_token_ids,
                                   "pad_token_id": self.pad_token_id}
        if request.temperature >= GREEDY_BELOW:
            options.update(do_sample=True, temperature=request.temperature)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if request.logprobs:
            options.update(output_scores=True, return_dict_in_generate=True)
        if request.cancelled is not None:
            options["stopping_criteria"] = [StopWhen(request.cancelled)]
        with self._lock:
            if request.json_schema is not None:
                from xgrammar.contrib.hf import LogitsProcessor

                # A fresh processor per call: its matchers hold the state of one generation.
                options["logits_processor"] = [LogitsProcessor(self.grammar(request.json_schema))]
            try:
                with torch.inference_mode():
                    output = self.model.generate(**inputs, **options)
            except torch.OutOfMemoryError:
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                raise ModelUnavailable(f"{self.model_name} ran out of memory on {self.device} with a "
                                       f"{prompt_tokens}-token prompt: send fewer or smaller frames, lower "
                                       f"max_new_tokens, or use quantization", model=self.model_name,
                                       engine=self.name) from None
            except RuntimeError as exc:
                raise ModelUnavailable(f"{self.model_name} failed to generate on {self.device}: {str(exc)[:300]}",
                                       model=self.model_name, engine=self.name) from None
        if request.cancelled is not None and request.cancelled():
            raise Cancelled()
        sequences = output.sequences if hasattr(output, "sequences") else output
        ids = [int(token) for token in sequences[0, prompt_tokens:].tolist()]  # a batch of one: never padded
        text = self._decode(ids)
        logprobs = None
        if request.logprobs:
            logprobs = list(zip(token_texts(self._decode, ids), token_logprobs(list(output.scores)[:len(ids)], ids),
                                strict=True))
        result = ChatResult(text=text, engine=self.name, model=self.model_name, tokens_generated=len(ids),
                            prompt_tokens=prompt_tokens, token_logprobs=logprobs)
        if request.json_schema is not None:
            result.data = parse_json_answer(text, cut_at=request.max_new_tokens if len(ids) >= request.max_new_tokens
                                            else None)
        return result

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)

    def close(self) -> None:
        self.model = None
        self._grammars.clear()
        self._grammar_compiler = None
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()


def _load(load: Callable[[str], Any], model_id: str, name: str) -> Any:
    """`from_pretrained` (a checkpoint that is neither a folder nor in the cache -> 503), also turning a folder that
    exists but holds no loadable checkpoint (transformers raises ValueError: no config/tokenizer in it) into a 503."""
    try:
        return from_pretrained(load, model_id, name)
    except ValueError as exc:
        if not os.path.isdir(model_id):
            raise
        raise ModelUnavailable(f"the folder {model_id} for {name} holds no complete checkpoint: run `python "
                               f"scripts/fetch_models.py {name}` or fix model_id ({str(exc)[:200]})", model=name,
                               model_id=model_id) from None
