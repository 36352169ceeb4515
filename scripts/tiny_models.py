"""Tiny random-weight OWLv2, Grounding DINO and Florence-2, built offline for the demo and the tests.

Each build_* function makes the real transformers model class from a tiny config and the real processor with a
tokenizer trained here with `tokenizers`, and saves both with save_pretrained, so that the service loads them through
the same `from_pretrained` code as real checkpoints. Their boxes mean nothing; the code paths are the real ones.
Verified with transformers 5.24.0 (the traps per family are noted inline).
"""
from __future__ import annotations

import os

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

# Small corpus used to train every tokenizer (detection-ish vocabulary).
CORPUS = [
    "a cat. a red car. a dog. a person. a bicycle. a truck. a bus.",
    "a photo of a cat sitting on a red car next to a dog",
    "locate the objects with category name in the image.",
    "locate the phrases in the caption: a cat and a red car",
    "what does the image describe? describe in detail what is shown in the image.",
    "what is the text in the image, with regions? locate the region proposals in the image.",
    "locate the objects in the image, with their descriptions. a man riding a horse",
    "what is the polygon mask of region. locate in the image with mask",
    "what is the region? what does the region describe? what text is in the region?",
    "describe with a paragraph what is shown in the image. green tree blue sky white cloud",
    "circle. square. triangle. a photo of a circle",
]


def _corpus() -> list[str]:
    from runners.detection.coco import COCO_NAMES

    return CORPUS + [". ".join(list(COCO_NAMES))]


def _seed(seed: int = 0):
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------
# OWLv2
# ---------------------------------------------------------------------------
def _train_clip_tokenizer(vocab_size: int = 300):
    """CLIP-style BPE (end_of_word_suffix '</w>') trained with `tokenizers`.

    OWLv2 pools the text embedding at input_ids.argmax(-1), i.e. it assumes the
    EOS token has the HIGHEST id in the vocab (as in real CLIP: 49407). So we
    re-number the trained vocab and put <|startoftext|>, <|endoftext|> last.
    """
    from transformers import CLIPTokenizer

    base = CLIPTokenizer()  # default tiny vocab; we only reuse its normalizer / pre-tokenizer
    backend: Tokenizer = base._tokenizer
    backend.model = models.BPE(unk_token="<|endoftext|>", end_of_word_suffix="</w>", continuing_subword_prefix="")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        end_of_word_suffix="</w>",
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
        show_progress=False,
    )
    backend.train_from_iterator(_corpus() * 4, trainer=trainer)
    import json

    model_json = json.loads(backend.to_str())["model"]
    trained_vocab = model_json["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model_json["merges"]]
    # '!' first (OWL-ViT/OWLv2 use '!' = id 0 as pad token), specials last.
    toks = sorted(trained_vocab, key=trained_vocab.get)
    toks = ["!"] + [t for t in toks if t != "!"]
    vocab = {t: i for i, t in enumerate(toks)}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    tok = CLIPTokenizer(
        vocab=vocab,
        merges=merges,
        pad_token="!",
        model_max_length=16,  # OWLv2 text max_position_embeddings is 16; processor pads to max_length
    )
    return tok


def build_owlv2(out_dir: str, image_size: int = 64, patch_size: int = 16, real_size: bool = False) -> str:
    """real_size: the released base architecture (ViT-B/16 image tower, 12-layer text tower) at `image_size`."""
    from transformers import (
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessor,
        Owlv2Processor,
    )

    _seed()
    os.makedirs(out_dir, exist_ok=True)
    tok = _train_clip_tokenizer()
    text_cfg = dict(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=16,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    vision_cfg = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
    )
    if real_size:
        text_cfg = {k: text_cfg[k] for k in ("vocab_size", "max_position_embeddings", "pad_token_id", "bos_token_id",
                                              "eos_token_id")}
        cfg = Owlv2Config(text_config=text_cfg, vision_config={"image_size": image_size, "patch_size": patch_size})
    else:
        cfg = Owlv2Config(text_config=text_cfg, vision_config=vision_cfg, projection_dim=32)
    model = Owlv2ForObjectDetection(cfg).eval()
    image_processor = Owlv2ImageProcessor(size={"height": image_size, "width": image_size})
    processor = Owlv2Processor(image_processor=image_processor, tokenizer=tok)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


# ---------------------------------------------------------------------------
# Grounding DINO
# ---------------------------------------------------------------------------
def _train_bert_vocab(target_size: int = 1100) -> dict[str, int]:
    """WordPiece vocab trained with `tokenizers`, laid out like bert-base-uncased
    for the ids GroundingDINO hard-codes: [PAD]=0, [UNK]=100, [CLS]=101,
    [SEP]=102, [MASK]=103, '.'=1012, '?'=1029 (modeling_grounding_dino.SPECIAL_TOKENS
    = [101, 102, 1012, 1029] are used to build the phrase-level attention mask).
    Remaining slots are filled with trained word pieces, then [unusedN]."""
    from tokenizers import normalizers

    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=[], show_progress=False)
    wp.train_from_iterator(_corpus() * 4, trainer=trainer)
    learned = [t for t, _ in sorted(wp.get_vocab().items(), key=lambda kv: kv[1]) if t not in {".", "?"}]

    fixed = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]", 1012: ".", 1029: "?"}
    slots = [i for i in range(target_size) if i not in fixed]
    id2tok = dict(fixed)
    it = iter(learned)
    unused = 0
    for i in slots:
        t = next(it, None)
        if t is None:
            t = f"[unused{unused}]"
            unused += 1
        id2tok[i] = t
    return {t: i for i, t in id2tok.items()}


def build_grounding_dino(out_dir: str, shortest_edge: int = 64, longest_edge: int = 96, real_size: bool = False) -> str:
    """A tiny random MM Grounding DINO: MMGroundingDinoForObjectDetection, the class the shipped checkpoint
    (openmmlab-community/mm_grounding_dino_large_all) loads as, with Grounding DINO's processor. real_size: the
    released tiny architecture's size (Swin-T backbone, BERT-base text encoder)."""
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        MMGroundingDinoConfig,
        MMGroundingDinoForObjectDetection,
        SwinConfig,
    )

    _seed()
    os.makedirs(out_dir, exist_ok=True)
    vocab = _train_bert_vocab()
    # NOTE: BertTokenizer(vocab_file=...) is silently ignored in v5 -> pass the dict as `vocab=`.
    tok = BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=256)
    assert tok.convert_tokens_to_ids(["[CLS]", "[SEP]", ".", "?"]) == [101, 102, 1012, 1029]

    backbone = SwinConfig(
        image_size=shortest_edge,
        patch_size=4,
        embed_dim=16,
        depths=[1, 1, 1, 1],
        num_heads=[1, 1, 2, 2],
        window_size=4,
        out_indices=[2, 3, 4],
        drop_path_rate=0.0,
    )
    text = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    cfg = MMGroundingDinoConfig(
        backbone_config=backbone,
        text_config=text,
        d_model=32,
        num_queries=20,
        encoder_layers=1,
        decoder_layers=2,  # decoder_layers=1 breaks (needs >=2)
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_n_points=2,
        decoder_n_points=2,
        num_feature_levels=4,
        max_text_len=256,
        fusion_droppath=0.0,
    )
    if real_size:
        cfg = MMGroundingDinoConfig(text_config=BertConfig(vocab_size=len(vocab)))
    model = MMGroundingDinoForObjectDetection(cfg).eval()
    image_processor = GroundingDinoImageProcessor(size={"shortest_edge": shortest_edge, "longest_edge": longest_edge})
    processor = GroundingDinoProcessor(image_processor=image_processor, tokenizer=tok)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


# ---------------------------------------------------------------------------
# Florence-2
# ---------------------------------------------------------------------------
FLORENCE_TASK_TOKENS = (
    ["<od>", "</od>", "<ocr>", "</ocr>"]
    + [f"<loc_{i}>" for i in range(1000)]
    + ["<cap>", "</cap>", "<ncap>", "</ncap>", "<dcap>", "</dcap>", "<grounding>", "</grounding>",
       "<seg>", "</seg>", "<sep>", "<region_cap>", "</region_cap>", "<region_to_desciption>",
       "</region_to_desciption>", "<proposal>", "</proposal>", "<poly>", "</poly>", "<and>"]
)

# Every parse type Florence2Processor.tasks_answer_post_processing_type can map to must be a key,
# otherwise Florence2PostProcessor raises "Unsupported parse task: ...".
FLORENCE_POST_PROCESSOR_CONFIG = {
    "ocr": {
        "PATTERN": r"(.+?)<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>",
        "AREA_THRESHOLD": 0.0,
    },
    "phrase_grounding": {"FILTER_BY_BLACK_LIST": True,
                         "banned_grounding_tokens": ["it", "is", "are", "the", "a", "an", "image", "photo", "picture"]},
    "pure_text": {},
    "description_with_bboxes": {},
    "description_with_polygons": {},
    "polygons": {},
    "bboxes": {},
    "description_with_bboxes_or_polygons": {},
}


def _train_bart_tokenizer(vocab_size: int = 400):
    """Byte-level BPE (RoBERTa/BART layout <s>=0 <pad>=1 </s>=2 <unk>=3) + Florence task/loc tokens + <image>."""
    import json

    from transformers import BartTokenizer

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        show_progress=False,
    )
    bpe.train_from_iterator(_corpus() * 4, trainer=trainer)
    m = json.loads(bpe.to_str())["model"]
    vocab = dict(m["vocab"])
    vocab["<mask>"] = len(vocab)
    merges = [tuple(x) if isinstance(x, list) else tuple(x.split(" ")) for x in m["merges"]]
    tok = BartTokenizer(
        vocab=vocab,
        merges=merges,
        model_max_length=1024,
        # named extra special token -> tok.image_token / tok.image_token_id (Florence2Processor needs both)
        extra_special_tokens={"image_token": "<image>"},
    )
    # Florence-2 task + 1000 <loc_i> tokens, added as special tokens like the original checkpoint.
    tok.add_special_tokens({"extra_special_tokens": FLORENCE_TASK_TOKENS}, replace_extra_special_tokens=False)
    return tok


def build_florence2(out_dir: str, image_size: int = 64, real_size: bool = False) -> str:
    """real_size: the released Florence-2 architecture (DaViT image tower, BART text model) at `image_size`."""
    from transformers import (
        BartConfig,
        CLIPImageProcessor,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
        Florence2VisionConfig,
    )

    _seed()
    os.makedirs(out_dir, exist_ok=True)
    tok = _train_bart_tokenizer()
    assert tok.image_token == "<image>" and tok.convert_tokens_to_ids("<loc_999>") is not None

    # vision tower: 2 stages, total stride 4*2 = 8 -> (image_size/8)^2 patch tokens + 1 pooled token
    strides = (4, 2)
    grid = image_size // (strides[0] * strides[1])
    image_seq_length = grid * grid + 1
    d_model = 32
    vision = Florence2VisionConfig(
        depths=(1, 1),
        patch_size=(7, 3),
        patch_stride=strides,
        patch_padding=(3, 1),
        patch_prenorm=(False, True),
        embed_dim=(16, 32),
        num_heads=(1, 2),
        num_groups=(1, 2),
        window_size=4,
        drop_path_rate=0.0,
        projection_dim=d_model,  # must equal text d_model
        max_position_embeddings=max(16, grid),
        max_temporal_embeddings=4,
    )
    text = BartConfig(
        vocab_size=len(tok),
        d_model=d_model,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    if real_size:  # the default configs are the released architecture; only the vocabulary is ours
        released = Florence2Config()
        vision, released_text = released.vision_config, released.text_config
        text = BartConfig(**{**released_text.to_dict(), **{k: getattr(text, k) for k in (
            "vocab_size", "pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id",
            "forced_eos_token_id")}})
        image_seq_length = (image_size // 32) ** 2 + 1  # four stages, total stride 4*2*2*2
    cfg = Florence2Config(vision_config=vision, text_config=text, image_token_id=tok.image_token_id)
    model = Florence2ForConditionalGeneration(cfg).eval()
    image_processor = CLIPImageProcessor(
        size={"height": image_size, "width": image_size},
        do_center_crop=False,
        crop_size={"height": image_size, "width": image_size},
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        image_seq_length=image_seq_length,
    )
    processor = Florence2Processor(
        image_processor=image_processor,
        tokenizer=tok,
        post_processor_config=FLORENCE_POST_PROCESSOR_CONFIG,
    )
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


# ---------------------------------------------------------------------------
# SAM 2.1 video (served as sam2-1, samurai and sam2long)
# ---------------------------------------------------------------------------
def build_sam2(out_dir: str, real_size: bool = False) -> str:
    """Tiny random Sam2VideoModel + Sam2VideoProcessor at a 128-pixel input (a frame takes ~20 ms on one CPU core).

    real_size: the released sam2.1-hiera-tiny architecture (Hiera-T backbone, 256-wide heads; the config defaults) at
    a 256-pixel input instead of 1024, for benchmarks.

    Traps: the feature sizes are coupled to the input size (backbone_feature_sizes = size/4, /8, /16; the memory
    attention's RoPE grid = size/16); the heads' width must be a multiple of the memory width (64, pointers are split
    into width/64 tokens); global attention must not fall on a stage's first (pooling) block.
    """
    from transformers import Sam2VideoConfig, Sam2VideoModel, Sam2VideoProcessor
    from transformers.models.sam2.image_processing_sam2 import Sam2ImageProcessor
    from transformers.models.sam2_video.video_processing_sam2_video import (
        Sam2VideoVideoProcessor,
    )

    _seed()
    os.makedirs(out_dir, exist_ok=True)
    size = 256 if real_size else 128
    feature_sizes = [[size // 4] * 2, [size // 8] * 2, [size // 16] * 2]
    sized = {"image_size": size, "memory_attention_rope_feat_sizes": [size // 16] * 2}
    if real_size:
        cfg = Sam2VideoConfig(
            vision_config={"model_type": "sam2_vision_model", "backbone_feature_sizes": feature_sizes,
                           "backbone_config": {"model_type": "sam2_hiera_det_model", "image_size": [size, size]}},
            prompt_encoder_config={"image_size": size}, **sized)
    else:
        width = 128
        backbone = {"model_type": "sam2_hiera_det_model", "hidden_size": 16, "image_size": [size, size],
                    "blocks_per_stage": [1, 1, 2, 1], "embed_dim_per_stage": [16, 32, 64, 128],
                    "num_attention_heads_per_stage": [1, 1, 2, 2], "window_size_per_stage": [4, 4, 4, 2],
                    "global_attention_blocks": [3], "window_positional_embedding_background_size": [4, 4]}
        cfg = Sam2VideoConfig(
            vision_config={"model_type": "sam2_vision_model", "backbone_config": backbone,
                           "backbone_channel_list": [128, 64, 32, 16], "backbone_feature_sizes": feature_sizes,
                           "fpn_hidden_size": width},
            prompt_encoder_config={"hidden_size": width, "image_size": size, "patch_size": 16},
            mask_decoder_config={"hidden_size": width, "mlp_dim": 64, "num_hidden_layers": 1,
                                 "num_attention_heads": 2, "iou_head_hidden_dim": 32},
            memory_attention_hidden_size=width, memory_attention_num_layers=1,
            memory_attention_feed_forward_hidden_size=64, memory_encoder_hidden_size=width,
            memory_encoder_output_channels=64, mask_downsampler_embed_dim=width, memory_fuser_num_layers=1,
            memory_fuser_embed_dim=width, memory_fuser_intermediate_dim=64, **sized)
    model = Sam2VideoModel(cfg).eval()
    with torch.no_grad():  # random heads put the object score at ~0; lean it to "present" so masks are not all empty
        model.mask_decoder.pred_obj_score_head.proj_out.bias.fill_(0.5)
    processor = Sam2VideoProcessor(
        image_processor=Sam2ImageProcessor(size={"height": size, "width": size},
                                           mask_size={"height": size // 4, "width": size // 4}),
        video_processor=Sam2VideoVideoProcessor(size={"height": size, "width": size}),
        target_size=size,
    )
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


BUILDERS = {"owlv2": build_owlv2, "grounding-dino": build_grounding_dino, "florence-2": build_florence2,
            "sam2": build_sam2}
