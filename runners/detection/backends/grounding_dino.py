"""Grounding DINO (Liu et al., 2023) and MM Grounding DINO: boxes scored against the tokens of a "a. b. c." prompt.

Labels are mapped back to the requested phrases, never to sub-word fragments: each phrase owns the token positions
between separators ([CLS], [SEP], '.', '?'), a box's score for a phrase is the highest token probability in its span,
and the box is labelled with its best phrase. Box threshold: the box's best token probability (`confidence_threshold`);
text threshold: the chosen phrase's probability must also reach `TEXT_THRESHOLD` (or the confidence threshold when that
is lower). The text encoder reads at most 256 tokens, so large vocabularies are run in chunks and merged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import supervision as sv

from runners.detection.backends.base import DetectSettings, sigmoid
from runners.detection.backends.transformers_base import TransformersDetector

SEPARATOR_TOKEN_IDS = (101, 102, 1012, 1029)  # BERT's [CLS], [SEP], '.', '?' — the ids the model itself hard-codes
TEXT_THRESHOLD = 0.25


def prompt_of(phrases: Sequence[str]) -> str:
    return " . ".join(p.strip().lower() for p in phrases) + " ."


def phrase_spans(input_ids: Sequence[int], pad_id: int, count: int) -> list[list[int]]:
    """Token positions of each phrase, in prompt order."""
    spans: list[list[int]] = []
    current: list[int] = []
    for position, token in enumerate(input_ids):
        if token in SEPARATOR_TOKEN_IDS or token == pad_id:
            if current:
                spans.append(current)
            current = []
        else:
            current.append(position)
    return spans[:count]


def grounding_detections(logits, pred_boxes, spans: list[list[int]], height: int, width: int, box_threshold: float,
                         text_threshold: float) -> sv.Detections:
    """One frame's raw outputs -> detections. logits: (queries, text_len); pred_boxes: (queries, 4) normalized
    (cx, cy, w, h) of the frame itself (the pixel mask keeps padding out)."""
    probs = sigmoid(logits)
    if not spans:
        return sv.Detections.empty()
    phrase_scores = np.stack([probs[:, span].max(axis=1) for span in spans], axis=1)
    box_scores = probs[:, sorted(p for span in spans for p in span)].max(axis=1)
    class_id = phrase_scores.argmax(axis=1)
    keep = (box_scores >= box_threshold) & (phrase_scores.max(axis=1) >= text_threshold)
    cx, cy, w, h = np.asarray(pred_boxes, dtype=np.float64)[keep].T
    xyxy = np.stack([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], axis=1)
    return sv.Detections(xyxy=xyxy.reshape(-1, 4), confidence=box_scores[keep], class_id=class_id[keep])


class GroundingDinoDetector(TransformersDetector):
    model_class = "AutoModelForZeroShotObjectDetection"

    def __init__(self, name: str, model_id: str, device: str) -> None:
        super().__init__(name, model_id, device)
        self.max_text_len = int(getattr(self.model.config, "max_text_len", 256))
        self._chunks: dict[tuple[str, ...], list[tuple[int, list[str]]]] = {}

    def chunks(self, vocabulary: Sequence[str]) -> list[tuple[int, list[str]]]:
        """(offset, phrases) groups whose prompt fits the text encoder; worked out once per vocabulary, not per
        batch (it tokenizes the growing prompt for every phrase)."""
        key = tuple(vocabulary)
        if key not in self._chunks:
            if len(self._chunks) >= 64:
                self._chunks.clear()
            self._chunks[key] = self._split(vocabulary)
        return self._chunks[key]

    def _split(self, vocabulary: Sequence[str]) -> list[tuple[int, list[str]]]:
        groups: list[tuple[int, list[str]]] = []
        current: list[str] = []
        offset = 0
        for index, phrase in enumerate(vocabulary):
            candidate = current + [phrase]
            if current and len(self.processor.tokenizer(prompt_of(candidate))["input_ids"]) > self.max_text_len:
                groups.append((offset, current))
                current, offset = [phrase], index
            else:
                current = candidate
        groups.append((offset, current))
        return groups

    def detect(self, frames: Sequence[np.ndarray], vocabulary: Sequence[str],
               settings: DetectSettings) -> list[sv.Detections]:
        per_frame: list[list[sv.Detections]] = [[] for _ in frames]
        text_threshold = min(TEXT_THRESHOLD, settings.lowest_threshold)
        for offset, phrases in self.chunks(vocabulary):
            prompt = prompt_of(phrases)
            inputs = self.processor(images=list(frames), text=[prompt] * len(frames), return_tensors="pt")
            inputs = inputs.to(self.device)
            with self._lock, self._torch.inference_mode():
                outputs = self.model(**inputs)
            logits, boxes = outputs.logits.float().cpu().numpy(), outputs.pred_boxes.float().cpu().numpy()
            ids = inputs["input_ids"].cpu().numpy()
            for i, frame in enumerate(frames):
                spans = phrase_spans(ids[i].tolist(), self.processor.tokenizer.pad_token_id, len(phrases))
                found = grounding_detections(logits[i], boxes[i], spans, frame.shape[0], frame.shape[1],
                                             settings.lowest_threshold, text_threshold)
                assert found.class_id is not None  # grounding_detections labels every box
                found.class_id = found.class_id + offset
                per_frame[i].append(found)
        return [sv.Detections.merge(parts).with_nms(threshold=settings.nms_threshold, class_agnostic=False)
                for parts in per_frame]
