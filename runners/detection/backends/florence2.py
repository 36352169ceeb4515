"""Florence-2 (Xiao et al., 2023): detection as generation. `<OD>` finds objects by itself (auto_detect);
`<CAPTION_TO_PHRASE_GROUNDING>` finds the requested phrases. The generated text is parsed by the processor's own
`post_process_generation`.

Florence-2 gives no box scores. The score reported is the generation's own: the mean probability of the four
location tokens that encode the box (each token's softmax probability at the step it was generated). Labels the
model writes are matched to the effective vocabulary case-insensitively (also without a plural "s"); boxes whose
label is not in it are dropped, because `class_id` must index the vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import supervision as sv

from runners.detection.backends.base import DetectSettings
from runners.detection.backends.transformers_base import TransformersDetector

OD, GROUNDING = "<OD>", "<CAPTION_TO_PHRASE_GROUNDING>"
LOCATION_BINS = 1000


def location_boxes(token_ids: Sequence[int], token_probs: Sequence[float], loc_ids: dict[int, int],
                   width: int, height: int) -> list[tuple[list[int], float]]:
    """Every run of four location tokens as (box in pixels, mean token probability), in generation order.
    The pixel formula is the processor's: (bin + 0.5) * size / 1000, truncated."""
    found, run = [], []
    for token, prob in zip(token_ids, token_probs):
        if token in loc_ids:
            run.append((loc_ids[token], prob))
            if len(run) == 4:
                bins = [b for b, _ in run]
                scale = [width, height, width, height]
                box = [int((b + 0.5) * s / LOCATION_BINS) for b, s in zip(bins, scale)]
                found.append((box, float(np.mean([p for _, p in run]))))
                run = []
        else:
            run = []
    return found


def match_label(label: str, vocabulary: Sequence[str]) -> int | None:
    wanted = label.strip().lower()
    for index, name in enumerate(vocabulary):
        name = name.strip().lower()
        if wanted in (name, name + "s") or wanted.rstrip("s") == name:
            return index
    return None


def florence_detections(parsed: dict, scored_boxes: list[tuple[list[int], float]],
                        vocabulary: Sequence[str]) -> sv.Detections:
    """The processor's boxes and labels, each given the score of the location tokens that produced it."""
    scores_by_box: dict[tuple, list[float]] = {}
    for box, score in scored_boxes:
        scores_by_box.setdefault(tuple(box), []).append(score)
    xyxy, confidence, class_id = [], [], []
    for box, label in zip(parsed.get("bboxes", []), parsed.get("labels", [])):
        index = match_label(label, vocabulary)
        key = tuple(int(v) for v in box)
        if index is None or not scores_by_box.get(key):
            continue
        xyxy.append([float(v) for v in box])
        confidence.append(scores_by_box[key].pop(0))
        class_id.append(index)
    if not xyxy:
        return sv.Detections.empty()
    return sv.Detections(xyxy=np.array(xyxy), confidence=np.array(confidence), class_id=np.array(class_id))


class Florence2Detector(TransformersDetector):
    model_class = "Florence2ForConditionalGeneration"

    def __init__(self, name: str, model_id: str, device: str, max_new_tokens: int = 1024) -> None:
        super().__init__(name, model_id, device)
        # never generate past the decoder's position table (1024 for the released checkpoints)
        positions = getattr(self.model.config.text_config, "max_position_embeddings", max_new_tokens + 2)
        self.max_new_tokens = min(max_new_tokens, positions - 2)
        tokenizer = self.processor.tokenizer
        self.loc_ids = {tokenizer.convert_tokens_to_ids(f"<loc_{i}>"): i for i in range(LOCATION_BINS)}

    def detect(self, frames: Sequence[np.ndarray], vocabulary: Sequence[str],
               settings: DetectSettings) -> list[sv.Detections]:
        task = OD if list(vocabulary) == self.default_vocabulary else GROUNDING
        prompt = task if task == OD else task + ". ".join(vocabulary)
        inputs = self.processor(text=[prompt] * len(frames), images=list(frames), return_tensors="pt")
        inputs = inputs.to(self.device)
        with self._lock, self._torch.inference_mode():
            generated = self.model.generate(
                input_ids=inputs["input_ids"], pixel_values=inputs["pixel_values"],
                attention_mask=inputs.get("attention_mask"), max_new_tokens=self.max_new_tokens, num_beams=1,
                do_sample=False, output_scores=True, return_dict_in_generate=True,
            )
            log_probs = self.model.compute_transition_scores(generated.sequences, generated.scores,
                                                             normalize_logits=True)
        new_tokens = generated.sequences[:, -log_probs.shape[1]:].cpu().numpy()
        probs = log_probs.float().exp().cpu().numpy()
        texts = self.processor.batch_decode(generated.sequences, skip_special_tokens=False)
        return [self.parse_generation(texts[i], new_tokens[i].tolist(), probs[i].tolist(), frame.shape[:2], task,
                                      vocabulary, settings) for i, frame in enumerate(frames)]

    def parse_generation(self, text: str, token_ids: Sequence[int], token_probs: Sequence[float],
                         frame_shape: tuple[int, int], task: str, vocabulary: Sequence[str],
                         settings: DetectSettings) -> sv.Detections:
        """One frame's generation (its decoded text, its generated token ids and each one's probability) as boxes in
        the frame's pixels, scored by their location tokens, thresholded and de-duplicated."""
        height, width = frame_shape
        parsed = self.processor.post_process_generation(text, task=task, image_size=(width, height))[task]
        scored = location_boxes(token_ids, token_probs, self.loc_ids, width, height)
        found = florence_detections(parsed, scored, vocabulary)
        assert found.confidence is not None  # florence_detections scores every box
        keep = found.confidence >= settings.lowest_threshold if len(found) else np.zeros(0, dtype=bool)
        # supervision types indexing as one union over every key kind (a str reads data); a mask gives Detections
        return found[keep].with_nms(  # type: ignore[union-attr]
            threshold=settings.nms_threshold, class_agnostic=False)
