"""Build the offline demo: models that load through the service's real code paths with no network.

    python scripts/make_demo_models.py --out demo

writes
    demo/weights/yolo11n-shapes.pt        YOLO11n trained for a few CPU minutes on synthetic shapes (served as yolo11n)
    demo/weights/yolo11n-seg-shapes.pt    YOLO11n-seg fine-tuned from it on shapes under occluder bars, over each other
                                          and cut by the frame border (served as the yolo11n-seg tracker)
    demo/weights/sam2-tiny/               a tiny random SAM 2.1 (served as sam2-1, samurai and sam2long)
    demo/weights/yolov8s-worldv2.pt       YOLO-World v2 (s) architecture, random weights (served as yolo-world-v2)
    demo/weights/clip-text-tiny/          a tiny CLIP text encoder + a tokenizer trained here (YOLO-World's vocabulary)
    demo/weights/<family>-tiny/           tiny random OWLv2, Grounding DINO, Florence-2 (served under their names)
    demo/weights/<language model>/        tiny random language models of each served family (real classes,
                                          processors and chat templates): the summarization and augmentation names
    demo/media/shapes.mp4 (+ .json)       a synthetic video with known object positions (640x384)
    demo/media/portrait.mp4 (+ .json)     a short portrait one (240x320), so batches can mix frame sizes
    demo/media/tracking.mp4 (+ .json)     a scripted tracking video (640x384): a crossing, an occlusion, a late entry
    demo/models.yaml                      the service configuration that points at all of the above
    demo/metrics.json                     the trained detector's held-out mAP50 (top level), its mAP50 on
                                          shapes.mp4 (under "video": what the service's COCO export is checked
                                          against) and the segmenter's box and mask mAP50 (under "segmenter")

Only the random-weight models are meaningless: the trained YOLO11n is the one whose answers can be scored.
The build is skipped when `demo/recipe.json` already matches this recipe (tests call this once per run); the two
trained models are retrained only when their own recipe changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runners.core.config import DEFAULT_CONFIG  # noqa: E402
from scripts import synthetic, tiny_language_models, tiny_models  # noqa: E402

RECIPE = {
    "version": 6,
    # Bump "generator" when scripts/synthetic.py draws images differently: the detector retrains only when its
    # own recipe changes (training takes minutes; everything else is rebuilt in seconds).
    "detector": {"generator": 2, "arch": "yolo11n.yaml", "train": 500, "val": 100, "image": [320, 192],
                 "size_range": [40, 80], "imgsz": 160, "epochs": 20, "batch": 16, "seed": 0, "mosaic": 0.0,
                 "optimizer": "AdamW", "lr0": 0.004, "warmup_epochs": 1},
    "world": {"arch": "yolov8s-worldv2.yaml"},
    "transformers_detectors": ["owlv2", "grounding-dino", "florence-2"],
    # served name -> tiny family (scripts/tiny_language_models.py); gemma-3-27b-text names gemma-3-27b's checkpoint,
    # as in the shipped config, so one load serves both tasks
    "language_models": {"llama-4-maverick": "llama4", "gemma-3-27b": "gemma3", "internvl3-78b": "internvl",
                        "pixtral-large": "pixtral", "qwen2-5-vl-72b": "qwen2_5_vl", "llama-4-scout": "llama4",
                        "llama-3-3-70b": "llama", "deepseek-v3": "deepseek_v3"},
    "clip_text": {"hidden": 64, "layers": 2, "heads": 2, "projection_dim": 512, "vocab": 600},
    "video": {"width": 640, "height": 384, "frames": 250, "fps": 25, "count": 4, "size_range": [80, 144],
              "speed": 3.0, "seed": 7},
    # a second, portrait video so that batches mix frame sizes
    "portrait": {"width": 240, "height": 320, "frames": 30, "fps": 30, "count": 2, "size_range": [40, 72],
                 "speed": 2.0, "seed": 11},
    # YOLO11n-seg for the tracking demo, fine-tuned from the trained detector above ("init": same backbone, neck
    # and box head; retrained when the detector is). Training images are square crops at the scale the tracking
    # video has at `predict_imgsz` (640 px wide -> 192: objects of 55-120 px -> 16-36 px), so serve it with
    # predict(..., imgsz=predict_imgsz). Some images have a striped occluder bar (background), shapes cut by the
    # frame border (entering objects) and shapes drawn over or beside others (crossings). nbs = batch: one
    # optimizer step per batch (ultralytics otherwise accumulates to 64 images, too few steps for a short run).
    "segmenter": {"generator": 1, "arch": "yolo11n-seg.yaml", "init": "detector", "train": 460, "val": 100,
                  "image": [192, 192], "size_range": [16, 36], "min_objects": 2, "max_objects": 9,
                  "occluder_prob": 0.3, "outside_prob": 0.15, "overlap_prob": 0.8, "imgsz": 192, "predict_imgsz": 192,
                  "epochs": 10, "batch": 16, "nbs": 16, "scale": 0.3, "seed": 0, "mosaic": 0.0, "optimizer": "AdamW",
                  "lr0": 0.004, "warmup_epochs": 1},
    # a scripted video for tracking: 1 and 2 cross (2 drawn over 1, closest at frame 65); 3 passes behind the
    # striped bar (fully hidden frames 55-66) and leaves across the right border (frames 86-95); 4 enters across
    # the left border from frame 40; 5 is almost static
    "tracking": {
        "width": 640, "height": 384, "frames": 140, "fps": 25, "seed": 3,
        "occluders": [{"box": [400, 0, 530, 384], "colors": [[60, 60, 60], [150, 150, 150]], "period": 16}],
        "objects": [
            {"track_id": 1, "label": "circle", "size": 90, "color": [230, 40, 40], "start": [60, 60],
             "velocity": [2.0, 0.8], "first_frame": 0},
            {"track_id": 2, "label": "square", "size": 84, "color": [20, 230, 230], "start": [320, 112],
             "velocity": [-2.0, 0.8], "first_frame": 0},
            {"track_id": 3, "label": "triangle", "size": 64, "color": [250, 220, 30], "start": [100, 312],
             "velocity": [6.0, 0.0], "first_frame": 0},
            {"track_id": 4, "label": "circle", "size": 76, "color": [30, 200, 60], "start": [-35, 300],
             "velocity": [3.0, 0.0], "first_frame": 40},
            {"track_id": 5, "label": "triangle", "size": 70, "color": [250, 140, 20], "start": [585, 80],
             "velocity": [0.0, 0.3], "first_frame": 0},
        ],
    },
}


def recipe_hash(part: dict | None = None) -> str:
    if part is not None:
        return hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()[:16]
    # this file too: the configuration it writes (and a cached demo outside the clone) must follow its changes
    source = (Path(__file__).read_bytes() + Path(synthetic.__file__).read_bytes()
              + Path(tiny_models.__file__).read_bytes()
              + Path(tiny_language_models.__file__).read_bytes()
              + DEFAULT_CONFIG.read_bytes() + json.dumps(RECIPE, sort_keys=True).encode())
    return hashlib.sha256(source).hexdigest()[:16]


def seed_everything(seed: int) -> None:
    """Python, NumPy and torch seeded before a training (ultralytics seeds them again from `seed=`, with
    `deterministic=True`): one machine trains the same weights every time. Another CPU may still round differently
    and train other weights, which is why the tests' thresholds come from a spread of seeds (README, "Tests")."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_detector(out: Path, work: Path, seed: int | None = None) -> dict:
    """YOLO11n trained on synthetic shapes -> weights/yolo11n-shapes.pt; its held-out mAP. `seed` overrides the
    recipe's training seed (the data set stays the recipe's): scripts/demo_spread.py trains several."""
    from runners.core.ultralytics import import_ultralytics

    ultralytics = import_ultralytics()
    spec = RECIPE["detector"]
    seed = spec["seed"] if seed is None else seed
    seed_everything(seed)
    width, height = spec["image"]
    data = synthetic.write_yolo_dataset(work / "dataset", train=spec["train"], val=spec["val"], width=width,
                                        height=height, seed=spec["seed"], size_range=tuple(spec["size_range"]))
    model = ultralytics.YOLO(spec["arch"])
    started = time.perf_counter()
    model.train(data=str(data), epochs=spec["epochs"], imgsz=spec["imgsz"], batch=spec["batch"], device="cpu",
                workers=2, project=str(work / "runs"), name="shapes", exist_ok=True, plots=False, verbose=False,
                seed=seed, deterministic=True, amp=False, mosaic=spec["mosaic"], close_mosaic=0,
                optimizer=spec["optimizer"], lr0=spec["lr0"], warmup_epochs=spec["warmup_epochs"],
                patience=100)
    seconds = time.perf_counter() - started
    best = work / "runs" / "shapes" / "weights" / "best.pt"
    target = out / "weights" / "yolo11n-shapes.pt"
    shutil.copy(best, target)
    metrics = ultralytics.YOLO(str(target)).val(data=str(data), imgsz=spec["imgsz"], batch=16, device="cpu",
                                                 plots=False, verbose=False, workers=2,
                                                 project=str(work / "runs"), name="val", exist_ok=True)
    return {"map50": float(metrics.box.map50), "map50_95": float(metrics.box.map), "train_seconds": round(seconds),
            "seed": seed, "sha256": sha256(target)}


def video_map(out: Path, work: Path) -> dict:
    """The trained detector's mAP on every frame of shapes.mp4 against the video's ground truth, by ultralytics' own
    validator: the figure that COCOeval on the service's COCO export of the same frames must reproduce (the tests),
    from another implementation of both the detector's path and the metric."""
    from runners.core.ultralytics import import_ultralytics
    from runners.core.video import VideoFile

    ultralytics = import_ultralytics()
    video = out / "media" / "shapes.mp4"
    truth = json.loads(video.with_suffix(".json").read_text())
    width, height = truth["width"], truth["height"]
    frames = iter(VideoFile(video).get_frames([f["frame_number"] for f in truth["frames"]]))

    def sample():  # (the frame, its label lines), in frame order
        frame = truth["frames"][len(done)]
        done.append(frame["frame_number"])
        lines = []
        for o in frame["objects"]:
            x0, y0 = max(o["bbox"][0], 0.0), max(o["bbox"][1], 0.0)
            x1, y1 = min(o["bbox"][2], width), min(o["bbox"][3], height)
            lines.append(f"{synthetic.CLASSES.index(o['label'])} {(x0 + x1) / 2 / width:.6f} "
                         f"{(y0 + y1) / 2 / height:.6f} {(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
        return next(frames), lines

    done: list[int] = []
    data = synthetic.write_dataset(work / "video-val", {"val": len(truth["frames"])}, sample)
    metrics = ultralytics.YOLO(str(out / "weights" / "yolo11n-shapes.pt")).val(
        data=str(data), split="val", imgsz=RECIPE["detector"]["imgsz"], batch=16, device="cpu", plots=False,
        verbose=False, workers=0, project=str(work / "runs"), name="video", exist_ok=True)
    return {"map50": float(metrics.box.map50), "map50_95": float(metrics.box.map), "frames": len(done)}


def train_segmenter(out: Path, work: Path, seed: int | None = None) -> dict:
    """YOLO11n-seg trained on synthetic shapes -> weights/yolo11n-seg-shapes.pt; its held-out box and mask mAP.
    With "init": "detector" it starts from weights/yolo11n-shapes.pt (train the detector first)."""
    from runners.core.ultralytics import import_ultralytics

    ultralytics = import_ultralytics()
    spec = RECIPE["segmenter"]
    seed = spec["seed"] if seed is None else seed
    seed_everything(seed)
    width, height = spec["image"]
    data = synthetic.write_yolo_seg_dataset(
        work / "seg-dataset", train=spec["train"], val=spec["val"], width=width, height=height, seed=spec["seed"],
        size_range=tuple(spec["size_range"]), min_objects=spec["min_objects"], max_objects=spec["max_objects"],
        occluder_prob=spec["occluder_prob"], outside_prob=spec["outside_prob"], overlap_prob=spec["overlap_prob"])
    init = {"pretrained": str(out / "weights" / "yolo11n-shapes.pt")} if spec.get("init") == "detector" else {}
    model = ultralytics.YOLO(spec["arch"])
    started = time.perf_counter()
    model.train(data=str(data), epochs=spec["epochs"], imgsz=spec["imgsz"], batch=spec["batch"], nbs=spec["nbs"],
                device="cpu", workers=2, cache="ram", project=str(work / "runs"), name="seg", exist_ok=True,
                plots=False, verbose=False, val=False, seed=seed, deterministic=True, amp=False,
                mosaic=spec["mosaic"], close_mosaic=0, scale=spec["scale"], optimizer=spec["optimizer"],
                lr0=spec["lr0"], warmup_epochs=spec["warmup_epochs"], patience=100, **init)
    seconds = time.perf_counter() - started
    target = out / "weights" / "yolo11n-seg-shapes.pt"
    shutil.copy(work / "runs" / "seg" / "weights" / "best.pt", target)
    metrics = ultralytics.YOLO(str(target)).val(data=str(data), imgsz=spec["imgsz"], batch=16, device="cpu",
                                                 plots=False, verbose=False, workers=2,
                                                 project=str(work / "runs"), name="seg-val", exist_ok=True)
    return {"map50": float(metrics.box.map50), "map50_95": float(metrics.box.map),
            "mask_map50": float(metrics.seg.map50), "mask_map50_95": float(metrics.seg.map),
            "train_seconds": round(seconds), "predict_imgsz": spec["predict_imgsz"], "seed": seed,
            "sha256": sha256(target)}


def sha256(path: Path) -> str:
    """Checksum of a checkpoint's weights (names, shapes and values in order), not of the file: ultralytics writes
    the training date into the file, so two identical trainings give different file bytes."""
    import torch

    digest = hashlib.sha256()
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    for name, tensor in checkpoint["model"].state_dict().items():
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


# Held-out metrics a demo build must reach: 0.10 under the worst of the five seeds scripts/demo_spread.py trained,
# rounded down to a multiple of 0.05 (README, "Tests": the spread table). A build under them stops here, with a
# message, instead of failing tests downstream.
FLOORS = {"detector": {"map50": 0.85}, "segmenter": {"map50": 0.85, "mask_map50": 0.85}}


class DemoBuildError(SystemExit):
    """The demo build cannot go on: its message says why and what to do."""


def below_floors(metrics: dict) -> list[str]:
    """Each held-out metric of `metrics` (demo/metrics.json's layout) that is under its floor, as text."""
    found = {"detector": metrics, "segmenter": metrics.get("segmenter") or {}}
    return [f"{model} {name} {found[model].get(name, 0.0):.3f} < {floor}"
            for model, floors in FLOORS.items() for name, floor in floors.items()
            if found[model].get(name, 0.0) < floor]


def check_floors(metrics: dict, metrics_path: Path) -> None:
    failed = below_floors(metrics)
    if failed:
        raise DemoBuildError(
            f"demo build: the trained demo models missed their held-out floors ({'; '.join(failed)}; see "
            f"{metrics_path}). The trainings are seeded, so this is a change of recipe, library or machine: rerun "
            f"with --force after checking scripts/make_demo_models.py's RECIPE, and measure the spread again "
            f"(scripts/demo_spread.py).")


def build_clip_text(target: Path) -> None:
    """A real CLIPTextModelWithProjection, tiny, with a BPE tokenizer trained on class names."""
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModelWithProjection,
        PreTrainedTokenizerFast,
    )

    from runners.detection.coco import COCO_NAMES

    spec = RECIPE["clip_text"]
    corpus = list(COCO_NAMES) + synthetic.CLASSES + ["a photo of a", "red", "green", "blue", "person walking", "car"]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<unk>", "<s>", "</s>"]
    tokenizer.train_from_iterator(corpus * 4, trainers.BpeTrainer(
        vocab_size=spec["vocab"], special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A </s>",
                                                             special_tokens=[("<s>", 2), ("</s>", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>", model_max_length=77)
    fast.save_pretrained(target)
    config = CLIPTextConfig(vocab_size=tokenizer.get_vocab_size(), hidden_size=spec["hidden"],
                            intermediate_size=spec["hidden"] * 2, num_hidden_layers=spec["layers"],
                            num_attention_heads=spec["heads"], max_position_embeddings=77,
                            projection_dim=spec["projection_dim"], pad_token_id=0, bos_token_id=2, eos_token_id=3)
    CLIPTextModelWithProjection(config).save_pretrained(target)


def build_world(target: Path) -> None:
    from runners.core.ultralytics import import_ultralytics

    import_ultralytics().YOLOWorld(RECIPE["world"]["arch"]).save(str(target))


def architecture(folder: Path) -> str:
    """The transformers class a built folder holds, read from its config.json (what the service will load)."""
    return json.loads((folder / "config.json").read_text())["architectures"][0]


def demo_entry(shipped: dict, model_id: str, weights: str, serves_as: str, description: str, **more) -> dict:
    """A shipped option re-pointed at a demo checkpoint. Its provenance is the demo's own, never the shipped one's:
    the shipped `serves_as` names a real checkpoint the demo does not have."""
    entry = {key: value for key, value in shipped.items() if key not in ("serves_as", "weights")}
    return {**entry, "model_id": model_id, **more, "weights": weights, "serves_as": serves_as,
            "description": description}


def write_config(out: Path) -> Path:
    """The demo configuration: the shipped one, with the demo's checkpoints and media root; every entry says which
    demo checkpoint serves it and whether its weights are trained or random."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text())
    weights = out / "weights"
    detection = config["models"]["object_detection"]
    detection["selected"] = "yolo-world-v2"
    shipped = detection["options"]
    detection["options"] = {
        "yolo-world-v2": demo_entry(
            shipped["yolo-world-v2"], "./weights/yolov8s-worldv2.pt", "random",
            "YOLO-World v2 small architecture with random weights (./weights/yolov8s-worldv2.pt) and a tiny random "
            "CLIPTextModelWithProjection (./weights/clip-text-tiny)",
            "YOLO-World v2 (s) architecture with random weights and a tiny CLIP text encoder (demo: real code path, "
            "meaningless boxes)", text_encoder="./weights/clip-text-tiny"),
        "yolo11n": demo_entry(
            shipped["yolo11n"], "./weights/yolo11n-shapes.pt", "demo-trained",
            "YOLO11n trained on synthetic shapes (./weights/yolo11n-shapes.pt)",
            "YOLO11n trained on synthetic shapes (demo: circle, square, triangle)"),
        **{name: demo_entry(
            shipped[name], f"./weights/{family}-tiny", "random",
            f"tiny random {architecture(weights / f'{family}-tiny')} (./weights/{family}-tiny)",
            f"tiny random {family} (demo: real classes and processor, meaningless boxes)")
           for name, family in (("owlv2", "owlv2"), ("grounding-dino-1-5", "grounding-dino"),
                                ("florence-2", "florence-2"))},
    }
    tracking = config["models"]["video_tracking"]
    tracking["selected"] = "yolo11n-seg"
    shipped = tracking["options"]
    sam2 = architecture(weights / "sam2-tiny")
    tracking["options"] = {
        "yolo11n-seg": demo_entry(
            shipped["yolo11n-seg"], "./weights/yolo11n-seg-shapes.pt", "demo-trained",
            "YOLO11n-seg trained on synthetic shapes (./weights/yolo11n-seg-shapes.pt)",
            "YOLO11n-seg trained on synthetic shapes with ByteTrack (demo: circle, square, triangle)",
            imgsz=RECIPE["segmenter"]["predict_imgsz"]),  # the scale it was trained at
        **{name: demo_entry(
            shipped[name], "./weights/sam2-tiny", "random", f"tiny random {sam2} (./weights/sam2-tiny)",
            f"tiny random SAM 2.1 served as {name} (demo: real code path, meaningless masks)")
           for name in ("sam2-1", "samurai", "sam2long")},
    }
    first_with = {}  # shipped model_id -> the first name that serves it
    for task in ("video_summarization", "ontology_augmentation"):
        for name, option in config["models"][task]["options"].items():
            first_with.setdefault(option["model_id"], name)
    for task in ("video_summarization", "ontology_augmentation"):
        options = config["models"][task]["options"]
        for name, option in options.items():
            folder = name if name in RECIPE["language_models"] else first_with[option["model_id"]]
            served_by = f"tiny random {architecture(weights / folder)} (./weights/{folder})"
            if folder == name:
                description = (f"tiny random {option['family']} served as {name} (demo: real classes, processor and "
                               f"chat template; random text)")
            else:  # shares another name's checkpoint (gemma-3-27b-text)
                description = f"the demo's {folder} used as a text model (one load)"
            entry = demo_entry(option, f"./weights/{folder}", "random", served_by, description,
                               framework="transformers", quantization="none", params_b=0.001)
            entry.pop("engine", None)  # engine-process flags for the real checkpoints
            options[name] = entry
    config["media"] = {"roots": ["./media"], "extensions": ["mp4", "mov", "mkv", "webm", "avi"]}
    path = out / "models.yaml"
    path.write_text("# Generated by scripts/make_demo_models.py: the offline demo configuration.\n"
                    + yaml.safe_dump(config, sort_keys=False))
    return path


def build(out: Path, force: bool = False) -> Path:
    out = out.resolve()
    stamp = out / "recipe.json"
    digest = recipe_hash()
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("hash") == digest:
        readable_by_all(out)
        print(f"demo models in {out} are up to date ({digest})")
        return out / "models.yaml"
    (out / "weights").mkdir(parents=True, exist_ok=True)
    work = out / "work"
    for name, video in (("shapes", RECIPE["video"]), ("portrait", RECIPE["portrait"])):
        synthetic.write_video(out / "media" / f"{name}.mp4", width=video["width"], height=video["height"],
                              frames=video["frames"], fps=video["fps"], seed=video["seed"], count=video["count"],
                              size_range=tuple(video["size_range"]), speed=video["speed"])
    tracking = RECIPE["tracking"]
    synthetic.write_tracking_video(out / "media" / "tracking.mp4", width=tracking["width"], height=tracking["height"],
                                   frames=tracking["frames"], objects=tracking["objects"],
                                   occluders=tracking["occluders"], fps=tracking["fps"], seed=tracking["seed"])
    build_clip_text(out / "weights" / "clip-text-tiny")
    build_world(out / "weights" / "yolov8s-worldv2.pt")
    for family in RECIPE["transformers_detectors"]:
        tiny_models.BUILDERS[family](str(out / "weights" / f"{family}-tiny"))
    tiny_models.BUILDERS["sam2"](str(out / "weights" / "sam2-tiny"))
    for name, family in RECIPE["language_models"].items():
        tiny_language_models.BUILDERS[family](str(out / "weights" / name))
    detector_hash = recipe_hash(RECIPE["detector"])
    metrics_path = out / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    # the detector's metrics stay at the top level (older readers), the segmenter's are under "segmenter"
    if force or metrics.get("recipe") != detector_hash or not (out / "weights" / "yolo11n-shapes.pt").exists():
        metrics.update(train_detector(out, work), recipe=detector_hash)
        metrics_path.write_text(json.dumps(metrics, indent=2))
    print(f"trained detector: mAP50 {metrics['map50']:.3f} on held-out frames ({metrics['train_seconds']} s)")
    if force or (metrics.get("video") or {}).get("recipe") != digest:  # the video is rewritten with the recipe
        metrics["video"] = {**video_map(out, work), "recipe": digest}
        metrics_path.write_text(json.dumps(metrics, indent=2))
    print(f"trained detector: mAP50 {metrics['video']['map50']:.3f} on the {metrics['video']['frames']} frames of "
          f"shapes.mp4")
    segmenter_hash = recipe_hash({**RECIPE["segmenter"], "detector": detector_hash}
                                 if RECIPE["segmenter"].get("init") == "detector" else RECIPE["segmenter"])
    segmenter = metrics.get("segmenter") or {}
    if (force or segmenter.get("recipe") != segmenter_hash
            or not (out / "weights" / "yolo11n-seg-shapes.pt").exists()):
        metrics["segmenter"] = segmenter = {**train_segmenter(out, work), "recipe": segmenter_hash}
        metrics_path.write_text(json.dumps(metrics, indent=2))
    print(f"trained segmenter: box mAP50 {segmenter['map50']:.3f}, mask mAP50 {segmenter['mask_map50']:.3f} on "
          f"held-out frames ({segmenter['train_seconds']} s)")
    for trained, spec, name in ((metrics, RECIPE["detector"], "yolo11n-shapes.pt"),
                                (segmenter, RECIPE["segmenter"], "yolo11n-seg-shapes.pt")):
        if "sha256" not in trained:  # trained by a build that recorded no seed or checksum: same recipe, same seed
            trained.update(seed=spec["seed"], sha256=sha256(out / "weights" / name))
            metrics_path.write_text(json.dumps(metrics, indent=2))
    check_floors(metrics, metrics_path)
    shutil.rmtree(work, ignore_errors=True)
    config = write_config(out)
    readable_by_all(out)
    stamp.write_text(json.dumps({"hash": digest, "recipe": RECIPE}, indent=2))
    return config


def readable_by_all(out: Path) -> None:
    """Every file readable by every user: safetensors writes its weights 0600, and a container's user (not their
    owner) reads the demo mounted into it."""
    for path in [out, *out.rglob("*")]:
        mode = path.stat().st_mode
        wanted = mode | (0o555 if path.is_dir() else 0o444)
        if mode != wanted:
            path.chmod(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("demo"))
    parser.add_argument("--force", action="store_true", help="rebuild even if the recipe has not changed")
    args = parser.parse_args()
    config = build(args.out, force=args.force)
    print(f"demo configuration: {config}\nserve it with: MODEL_CONFIG={config} bentoml serve")


if __name__ == "__main__":
    main()
