"""The tiny VLM / LLM builders: real classes and processors reload offline with Auto*, chat templates render the
family's format, both images of a 2-image prompt reach the model, and generate returns new tokens."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from runners.language.engines.hf_patches import runtime_patches
from scripts.tiny_language_models import (
    BUILDERS,
    TEXT_FAMILIES,
    VLM_FAMILIES,
    build_all,
)

# family -> (model class, processor/tokenizer-side class name, marker strings of the rendered chat template)
VLM_EXPECT = {
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", "Qwen2_5_VLProcessor",
                   ["<|im_start|>system\n", "<|vision_start|><|image_pad|><|vision_end|>" * 2,
                    "<|im_start|>assistant\n"]),
    "gemma3": ("Gemma3ForConditionalGeneration", "Gemma3Processor",
               ["<bos><start_of_turn>user\nYou annotate video.\n\n<start_of_image><start_of_image>",
                "<start_of_turn>model\n"]),
    "internvl": ("InternVLForConditionalGeneration", "InternVLProcessor",
                 ["<|im_start|>user\n<IMG_CONTEXT>\n<IMG_CONTEXT>\n", "<|im_start|>assistant\n"]),
    "llama4": ("Llama4ForConditionalGeneration", "Llama4Processor",
               ["<|header_start|>system<|header_end|>\n\nYou annotate video.<|eot|>", "<|image|><|image|>",
                "<|header_start|>assistant<|header_end|>\n\n"]),
    "pixtral": ("Mistral3ForConditionalGeneration", "PixtralProcessor",
                ["<s>[SYSTEM_PROMPT]You annotate video.[/SYSTEM_PROMPT][INST][IMG][IMG]", "[/INST]"]),
}
TEXT_EXPECT = {
    "llama": ("LlamaForCausalLM", ["<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n",
                                   "<|start_header_id|>assistant<|end_header_id|>\n\n"]),
    "deepseek_v3": ("DeepseekV3ForCausalLM", ["<｜begin▁of▁sentence｜>You annotate video.<｜User｜>",
                                              "<｜Assistant｜>"]),
    "gemma3_text": ("Gemma3ForCausalLM", ["<bos><start_of_turn>user\nYou annotate video.\n\n",
                                          "<start_of_turn>model\n"]),
}
PROMPT = "Describe what happens across these frames."


@pytest.fixture(scope="session")
def tiny_lms(tmp_path_factory) -> dict[str, str]:
    runtime_patches()
    return build_all(str(tmp_path_factory.mktemp("tiny_lms")))


def _images():
    rng = np.random.RandomState(0)
    frame_np = rng.randint(0, 255, (48, 64, 3), dtype=np.uint8)  # numpy HWC, landscape
    frame_pil = Image.fromarray(rng.randint(0, 255, (80, 40, 3), dtype=np.uint8))  # PIL, portrait
    return frame_np, frame_pil


def _messages(images=()):
    user = [{"type": "image", "image": im} for im in images] + [{"type": "text", "text": PROMPT}]
    return [{"role": "system", "content": [{"type": "text", "text": "You annotate video."}]},
            {"role": "user", "content": user}]


def _expected_image_tokens(family, processor, model, inputs) -> int:
    """Image placeholder tokens the processor must have expanded for the 2 images, computed from its own outputs."""
    if family == "qwen2_5_vl":
        return int(inputs["image_grid_thw"].prod(-1).sum()) // processor.image_processor.merge_size**2
    if family == "gemma3":
        return 2 * model.config.mm_tokens_per_image
    if family == "internvl":  # one block of image_seq_length tokens per tile (dynamic tiling)
        return inputs["pixel_values"].shape[0] * processor.image_seq_length
    if family == "llama4":  # one tile per image, (56/14)**2 * 0.5**2 patch tokens per tile
        vc = model.config.vision_config
        return inputs["pixel_values"].shape[0] * int((vc.image_size // vc.patch_size) ** 2 * vc.pixel_shuffle_ratio**2)
    if family == "pixtral":
        step = processor.patch_size * processor.spatial_merge_size
        return sum(-(-int(h) // step) * -(-int(w) // step) for h, w in inputs["image_sizes"])
    raise AssertionError(family)


def _image_token_id(model) -> int:
    cfg = model.config
    return cfg.image_token_id if getattr(cfg, "image_token_id", None) is not None else cfg.image_token_index


def test_registry_covers_all_families():
    assert set(BUILDERS) == set(VLM_FAMILIES) | set(TEXT_FAMILIES) == set(VLM_EXPECT) | set(TEXT_EXPECT)


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_models_are_tiny(tiny_lms, family):
    d = tiny_lms[family]
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    assert size < 5.5e6, (family, size)


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_vlm_two_images_generate(tiny_lms, family):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model_cls, proc_cls, markers = VLM_EXPECT[family]
    processor = AutoProcessor.from_pretrained(tiny_lms[family])
    model = AutoModelForImageTextToText.from_pretrained(tiny_lms[family]).eval()
    assert type(processor).__name__ == proc_cls and type(model).__name__ == model_cls

    text = processor.apply_chat_template(_messages([None, None]), add_generation_prompt=True, tokenize=False)
    for marker in markers:
        assert marker in text, (family, marker, text)

    inputs = processor.apply_chat_template(_messages(_images()), add_generation_prompt=True, tokenize=True,
                                           return_dict=True, return_tensors="pt")
    image_token_id = _image_token_id(model)
    n_image_tokens = int((inputs["input_ids"] == image_token_id).sum())
    assert n_image_tokens > 2
    assert n_image_tokens == _expected_image_tokens(family, processor, model, inputs)

    # The images really enter the model: other pixels -> other logits at the last position.
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
        blank = dict(inputs, pixel_values=torch.zeros_like(inputs["pixel_values"]))
        logits_blank = model(**blank).logits[0, -1]
    assert not torch.allclose(logits, logits_blank)

    out = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    new = out[0, inputs["input_ids"].shape[1]:]
    assert new.shape[0] == 4
    assert isinstance(processor.decode(new, skip_special_tokens=True), str)
    assert len(processor.batch_decode(out, skip_special_tokens=False)) == 1


@pytest.mark.parametrize("family", TEXT_FAMILIES)
def test_text_model_chat_generate(tiny_lms, family):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_cls, markers = TEXT_EXPECT[family]
    tok = AutoTokenizer.from_pretrained(tiny_lms[family])
    model = AutoModelForCausalLM.from_pretrained(tiny_lms[family]).eval()
    assert type(model).__name__ == model_cls

    text = tok.apply_chat_template(_messages(), add_generation_prompt=True, tokenize=False)
    assert PROMPT in text
    for marker in markers:
        assert marker in text, (family, marker, text)
    inputs = tok.apply_chat_template(_messages(), add_generation_prompt=True, tokenize=True, return_dict=True,
                                     return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    new = out[0, inputs["input_ids"].shape[1]:]
    assert new.shape[0] == 4
    assert isinstance(tok.decode(new, skip_special_tokens=True), str)
