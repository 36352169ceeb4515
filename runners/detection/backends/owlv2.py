"""OWLv2 (Minderer et al., "Scaling Open-Vocabulary Object Detection", 2023): one box per image patch, scored
against every text query.

OWLv2 pads each frame to a square (bottom and right) before resizing, so its normalized boxes are relative to the
padded square: pixels are `box * max(height, width)`, clipped to the frame — not `box * (width, height)`, the mistake
that put the original service's boxes in the wrong place on every non-square frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import supervision as sv

from runners.detection.backends.base import DetectSettings, sigmoid
from runners.detection.backends.transformers_base import TransformersDetector


def owlv2_detections(logits, pred_boxes, height: int, width: int, threshold: float) -> sv.Detections:
    """One frame's raw outputs -> detections in frame pixels. logits: (patches, queries); pred_boxes: (patches, 4)
    normalized (cx, cy, w, h) of the padded square. Each patch keeps its best-scoring query."""
    scores = sigmoid(logits)
    class_id = scores.argmax(axis=1)
    confidence = scores.max(axis=1)
    keep = confidence >= threshold
    side = max(height, width)
    cx, cy, w, h = np.asarray(pred_boxes, dtype=np.float64)[keep].T
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) * side
    return sv.Detections(xyxy=xyxy.reshape(-1, 4), confidence=confidence[keep], class_id=class_id[keep])


class Owlv2Detector(TransformersDetector):
    model_class = "Owlv2ForObjectDetection"

    def detect(self, frames: Sequence[np.ndarray], vocabulary: Sequence[str],
               settings: DetectSettings) -> list[sv.Detections]:
        queries = [list(vocabulary)] * len(frames)
        inputs = self.processor(text=queries, images=list(frames), return_tensors="pt", truncation=True).to(self.device)
        with self._lock, self._torch.inference_mode():
            outputs = self.model(**inputs)
        logits, boxes = outputs.logits.float().cpu().numpy(), outputs.pred_boxes.float().cpu().numpy()
        return [
            owlv2_detections(logits[i], boxes[i], frame.shape[0], frame.shape[1], settings.lowest_threshold)
            .with_nms(threshold=settings.nms_threshold, class_agnostic=False)
            for i, frame in enumerate(frames)
        ]
