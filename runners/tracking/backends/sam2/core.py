"""SAM 2.1 video tracking (Ravi et al., "SAM 2: Segment Anything in Images and Videos", arXiv 2408.00714) on
transformers' `Sam2VideoModel`, streamed one frame at a time, with the hooks SAMURAI and SAM2Long need.

Per frame and object the model attends to a memory (the conditioning frames plus recent tracked frames, and up to 16
object pointers), its mask decoder proposes 3 candidate masks with predicted IoUs and an object score, and one
candidate becomes the output and the next memory. Which candidate, and which frames form the memory, is what the
three families change (each family's policy is handed in by runners/tracking/registry.py; this module imports
none of them):

- `sam2` (here): stock SAM 2.1, argmax predicted IoU; memory = conditioning frames + the 6 previous frames.
- `samurai` (runners/tracking/backends/sam2/samurai.py): Kalman-filter motion score and gated memory.
- `sam2long` (runners/tracking/backends/sam2/sam2long.py): a tree of memory pathways.

The model subclass is stateless between calls: one loaded model may serve several sessions from several threads.
What a call may look at (a `MemoryPlan`) travels in a thread-local; everything else lives in the session. The session
keeps the memory the families can still reach and drops the rest after each frame, so memory does not grow with the
length of the video. Verified with transformers 5.24.0 (pinned), which supports memory stride 1 only.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Sam2VideoModel, Sam2VideoProcessor
from transformers.models.sam2_video.modeling_sam2_video import (
    NO_OBJ_SCORE,
    Sam2VideoImageSegmentationOutput,
    Sam2VideoInferenceSession,
    Sam2VideoMemoryAttention,
)

from runners.core.hf import from_pretrained
from runners.tracking.backends.base import SessionSpec, TrackedObject

NUM_RECENT_MEMORIES = 6  # SAM 2's num_maskmem - 1 tracked frames in memory (the default config's 7 slots)
MAX_CONDITIONING_FRAMES = 3  # per object: its first prompt and the newest re-prompts (keeps memory bounded)


# ---------------------------------------------------------------------------------------------------------------------
# What one model call produces and may look at
# ---------------------------------------------------------------------------------------------------------------------
@dataclass
class CandidateScores:
    """A frame's candidates for one object as plain numbers: what the selection rules decide on."""
    ious: np.ndarray  # (K,) predicted IoU per candidate mask
    boxes: np.ndarray  # (K, 4) candidate boxes in model-input pixels (inclusive x0, y0, x1, y1); zeros when empty
    object_score: float  # object score logit (> 0: present)


@dataclass
class Candidates:
    """The mask decoder's candidates for one object on one frame (tensors, batch of one)."""
    low_res: torch.Tensor  # (K, h, w) mask logits, NO_OBJ_SCORE where the object is absent
    high_res: torch.Tensor  # (K, S, S) the same upsampled to the model's input size
    ious: torch.Tensor  # (K,)
    tokens: torch.Tensor  # (1, 1, K, C) SAM output tokens (object pointers come from these)
    object_score_logits: torch.Tensor  # (1, 1, 1)

    def scores(self) -> CandidateScores:
        return CandidateScores(ious=self.ious.float().cpu().numpy(), boxes=mask_boxes(self.high_res),
                               object_score=float(self.object_score_logits.reshape(-1)[0]))


@dataclass(eq=False)
class MemoryEntry:
    """One frame of one object's memory: what later frames attend to, and the scores that decide whether they may."""
    frame: int
    object_pointer: torch.Tensor
    object_score: float
    iou: float
    kalman_score: float | None = None  # SAMURAI: IoU of the chosen box with the Kalman prediction
    valid: bool = True  # passes the family's memory gate (SAMURAI, SAM2Long)
    maskmem_features: torch.Tensor | None = None  # filled by the memory encoder after the frame
    maskmem_pos_enc: torch.Tensor | None = None

    def __getitem__(self, key: str):  # the stock memory code reads outputs as dicts
        return getattr(self, key)


@dataclass
class MemoryPlan:
    """What one model call may attend to; set per call (thread-local) so that the shared model keeps no state."""
    memory: list[tuple[int, MemoryEntry]] = field(default_factory=list)  # (temporal slot, entry); 0 = conditioning
    pointers: list[tuple[int, MemoryEntry]] = field(default_factory=list)  # (temporal distance, entry)
    frame_key_weights: list[float] | None = None  # SAM2Long: scale of each memory frame's attention keys
    pointer_key_weights: list[float] | None = None
    candidates: Candidates | None = None  # filled by the call


_calls = threading.local()


def current_plan() -> MemoryPlan | None:
    return getattr(_calls, "plan", None)


def mask_boxes(masks: torch.Tensor) -> np.ndarray:
    """(K, H, W) mask logits -> (K, 4) inclusive pixel boxes of the positive pixels; [0, 0, 0, 0] for an empty mask
    (the convention of SAMURAI's code)."""
    positive = masks > 0
    rows, cols = positive.any(dim=2), positive.any(dim=1)  # (K, H), (K, W)
    boxes = np.zeros((masks.shape[0], 4), dtype=np.float64)
    for k in range(masks.shape[0]):
        ys, xs = torch.nonzero(rows[k]).flatten(), torch.nonzero(cols[k]).flatten()
        if len(ys):
            boxes[k] = [xs[0].item(), ys[0].item(), xs[-1].item(), ys[-1].item()]
    return boxes


# ---------------------------------------------------------------------------------------------------------------------
# Memory selection helpers shared by the families
# ---------------------------------------------------------------------------------------------------------------------
def walk_back(valid: Mapping[int, bool], t: int, max_kept: int = 15) -> list[int]:
    """SAMURAI's and SAM2Long's memory search: from t-1 backwards keep the frames that pass the gate, at most
    `max_kept`; the previous frame is kept whatever its scores. Ascending frame order."""
    kept: list[int] = []
    for i in sorted((i for i in valid if i < t), reverse=True):
        if len(kept) >= max_kept:
            break
        if valid[i]:
            kept.append(i)
    if t - 1 in valid and t - 1 not in kept:
        kept.append(t - 1)
    return sorted(kept)


def prune_frames(frames: dict[int, MemoryEntry], t: int, keep_recent: int, keep_valid: int) -> None:
    """Drop the frames no later step can reach: keep the last `keep_recent` frames (up to t) and the newest
    `keep_valid` frames that pass the memory gate (a walk-back from any later frame stops before older ones)."""
    newest_valid = set(sorted((i for i, e in frames.items() if e.valid), reverse=True)[:keep_valid])
    for i in [i for i in frames if i <= t - keep_recent and i not in newest_valid]:
        del frames[i]


def stock_plan(conditioning: Mapping[int, MemoryEntry], frames: Mapping[int, MemoryEntry], t: int,
               num_pointers: int = 16) -> MemoryPlan:
    """SAM 2.1's own memory: conditioning frames, the 6 previous frames, pointers of the 15 previous frames."""
    plan = MemoryPlan(memory=[(0, entry) for entry in conditioning.values()],
                      pointers=[(t - f, entry) for f, entry in conditioning.items()])
    plan.memory += [(d, frames[t - d]) for d in range(NUM_RECENT_MEMORIES, 0, -1) if t - d in frames]
    plan.pointers += [(d, frames[t - d]) for d in range(1, num_pointers) if t - d in frames]
    return plan


def ranked_plan(conditioning: Mapping[int, MemoryEntry], frames: Mapping[int, MemoryEntry], t: int,
                memory_frames: list[int], pointer_frames: list[int] | None, num_pointers: int = 16) -> MemoryPlan:
    """A plan from selected frames (ascending): temporal slots by rank, newest = 1, as SAMURAI and SAM2Long do.
    `pointer_frames=None` keeps SAM 2's pointers (the 15 previous frames)."""
    def by_rank(selected: list[int]) -> list[tuple[int, MemoryEntry]]:
        return [(len(selected) - i, frames[f]) for i, f in enumerate(selected)]

    plan = stock_plan(conditioning, frames, t, num_pointers)
    plan.memory = [(0, entry) for entry in conditioning.values()] + by_rank(memory_frames)
    if pointer_frames is not None:
        plan.pointers = [(t - f, entry) for f, entry in conditioning.items()] + by_rank(pointer_frames)
    return plan


def key_scales(plan: MemoryPlan | None, num_tokens: int, num_pointer_tokens: int) -> torch.Tensor | None:
    """One scale per memory token from the plan's per-frame and per-pointer key weights (None: no modulation)."""
    if plan is None or plan.frame_key_weights is None:
        return None
    tokens_per_frame = []
    for _, entry in plan.memory:
        if entry.maskmem_features is None:
            raise ValueError(f"the memory of frame {entry.frame} is in the plan before it was encoded")
        tokens_per_frame.append(entry.maskmem_features.shape[0])
    frame_tokens = torch.tensor(tokens_per_frame)
    scales = [torch.tensor(plan.frame_key_weights).repeat_interleave(frame_tokens)]
    if plan.pointers:
        per_pointer = num_pointer_tokens // len(plan.pointers)
        scales.append(torch.tensor(plan.pointer_key_weights).repeat_interleave(per_pointer))
    scale = torch.cat(scales)
    if scale.numel() != num_tokens:
        raise ValueError(f"key weights cover {scale.numel()} memory tokens, the memory has {num_tokens}")
    return scale


# ---------------------------------------------------------------------------------------------------------------------
# The model with the hooks
# ---------------------------------------------------------------------------------------------------------------------
class KeyScaledMemoryAttention(Sam2VideoMemoryAttention):
    """Memory attention whose cross-attention keys may be scaled per memory token (SAM2Long's object-aware memory
    modulation). Every layer attends with key = memory + position and value = memory, so shifting the position
    embedding by (memory + position) * (scale - 1) scales the keys and leaves the values alone."""

    def forward(self, current_vision_features, memory, current_vision_position_embeddings=None,
                memory_posision_embeddings=None, num_object_pointer_tokens: int = 0):
        scale = key_scales(current_plan(), memory.shape[0], num_object_pointer_tokens)
        if scale is not None:
            scale = scale.to(memory)[:, None, None]
            memory_posision_embeddings = (memory + memory_posision_embeddings) * scale - memory
        return super().forward(current_vision_features, memory, current_vision_position_embeddings,
                               memory_posision_embeddings, num_object_pointer_tokens)


class Sam2TrackerModel(Sam2VideoModel):
    """Sam2VideoModel whose memory and candidate choice follow the calling thread's `MemoryPlan`. Without a plan
    it is the stock model."""

    def __init__(self, config) -> None:
        super().__init__(config)
        self.memory_attention.__class__ = KeyScaledMemoryAttention  # same weights, one extra hook

    @contextlib.contextmanager
    def planned(self, plan: MemoryPlan) -> Iterator[MemoryPlan]:
        previous, _calls.plan = current_plan(), plan
        try:
            yield plan
        finally:
            _calls.plan = previous

    def _gather_memory_frame_outputs(self, inference_session, obj_idx, frame_idx, track_in_reverse_time=False):
        plan = current_plan()
        if plan is None:
            return super()._gather_memory_frame_outputs(inference_session, obj_idx, frame_idx, track_in_reverse_time)
        return list(plan.memory)

    def _get_object_pointers(self, inference_session, obj_idx, frame_idx, num_total_frames, device,
                             track_in_reverse_time=False, streaming=False):
        plan = current_plan()
        if plan is None:
            return super()._get_object_pointers(inference_session, obj_idx, frame_idx, num_total_frames, device,
                                                track_in_reverse_time, streaming)
        offsets = [offset for offset, _ in plan.pointers]
        tokens = [entry.object_pointer.to(device) for _, entry in plan.pointers]
        return offsets, tokens, self.config.max_object_pointers_in_encoder

    def _single_frame_forward(self, pixel_values=None, input_points=None, input_labels=None, input_boxes=None,
                              input_masks=None, image_embeddings=None, multimask_output=True, **kwargs):
        """The stock SAM head on precomputed features, keeping every candidate in the plan (the stock code keeps
        only the argmax-IoU one). The returned output is the stock argmax choice."""
        plan = current_plan()
        if plan is None or pixel_values is not None or input_masks is not None or input_boxes is not None:
            return super()._single_frame_forward(pixel_values, input_points, input_labels, input_boxes, input_masks,
                                                 image_embeddings, multimask_output, **kwargs)
        features = image_embeddings[-1]
        if input_points is None:  # no prompt: one padding point
            input_points = features.new_zeros(1, 1, 1, 2)
            input_labels = -torch.ones(1, 1, 1, dtype=torch.int32, device=features.device)
        sparse, dense = self.prompt_encoder(input_points=input_points, input_labels=input_labels,
                                            input_boxes=None, input_masks=None)
        low_res, ious, tokens, object_score_logits = self.mask_decoder(
            image_embeddings=features, image_positional_embeddings=self.get_image_wide_positional_embeddings(),
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=multimask_output,
            high_resolution_features=image_embeddings[:-1])
        # an absent object's masks are empty, as in SAM 2 (spatial memory is a hard present / absent choice)
        low_res = torch.where(object_score_logits[:, :, :, None, None] > 0, low_res, NO_OBJ_SCORE)
        high_res = F.interpolate(low_res[0].float(), size=(self.image_size, self.image_size), mode="bilinear",
                                 align_corners=False).to(low_res.dtype)
        plan.candidates = Candidates(low_res=low_res[0, 0], high_res=high_res[0], ious=ious[0, 0], tokens=tokens,
                                     object_score_logits=object_score_logits)
        best = int(ious[0, 0].argmax())
        return Sam2VideoImageSegmentationOutput(
            iou_scores=ious, pred_masks=low_res[:, :, best], high_res_masks=high_res[:, best][:, None],
            object_pointer=self.candidate_pointer(plan.candidates, best), object_score_logits=object_score_logits,
            image_embeddings=image_embeddings)

    def candidate_pointer(self, candidates: Candidates, index: int) -> torch.Tensor:
        """Object pointer of one candidate: its output token projected, the no-object pointer when absent."""
        pointer = self.object_pointer_proj(candidates.tokens[:, :, index])
        present = (candidates.object_score_logits > 0).to(pointer.dtype)
        return present * pointer + (1 - present) * self.no_object_pointer


# ---------------------------------------------------------------------------------------------------------------------
# Objects, families, sessions
# ---------------------------------------------------------------------------------------------------------------------
@dataclass
class ObjectTrack:
    """One object of a session: its conditioning frames, its tracked memory and the family's own state."""
    obj_id: int
    conditioning: dict[int, MemoryEntry] = field(default_factory=dict)
    frames: dict[int, MemoryEntry] = field(default_factory=dict)
    state: object = None


@dataclass
class Choice:
    """The candidate a family keeps: `index` into `candidates`, with the memory entry it becomes."""
    candidates: Candidates
    index: int
    entry: MemoryEntry


@dataclass
class Outcome:
    """A family's decision for one object on one frame: the output and the memory entries to encode."""
    output: Choice
    memories: list[Choice]


class Sam2Policy:
    """Stock SAM 2.1: the candidate with the highest predicted IoU; memory = conditioning + the 6 previous frames."""

    def __init__(self, settings=None, model_config=None) -> None:  # model_config: SAMURAI reads it
        self.settings = settings

    def restart(self, track: ObjectTrack) -> None:
        """A prompt on this object: forget the family's selection state (not the memory)."""
        track.state = None

    def step(self, session: Sam2Session, track: ObjectTrack, t: int) -> Outcome:
        plan = stock_plan(track.conditioning, track.frames, t, session.num_pointers)
        candidates, scores = session.run(track, t, plan)
        choice = session.choose(candidates, scores, int(np.argmax(scores.ious)), t)
        track.frames[t] = choice.entry
        return Outcome(output=choice, memories=[choice])

    def prune(self, track: ObjectTrack, t: int, num_pointers: int) -> None:
        prune_frames(track.frames, t, keep_recent=num_pointers - 1, keep_valid=0)


ScoreHook = Callable[[int, int, int, CandidateScores], CandidateScores]


class Sam2Session:
    """One video stream: per-object memory, the frame index, and the model's per-frame feature cache."""

    def __init__(self, tracker: Sam2Tracker, width: int, height: int, keep_masks: bool = True,
                 settings=None, state_device: str | None = None) -> None:
        self.tracker, self.model, self.processor = tracker, tracker.model, tracker.processor
        self.width, self.height, self.keep_masks = width, height, keep_masks
        self.device = tracker.device
        self.state_device = state_device or tracker.device
        self.policy = tracker.make_policy(settings)
        self.num_pointers = self.model.config.max_object_pointers_in_encoder
        self.tracks: dict[int, ObjectTrack] = {}
        self.frame_index = -1
        # test / debugging hook: (object id, frame index, pathway, scores) -> scores the family decides on
        self.score_hook: ScoreHook | None = None
        self.last_choice: dict[int, int] = {}  # object id -> candidate index output on the last step
        self._hf = Sam2VideoInferenceSession(video_height=height, video_width=width, inference_device=self.device,
                                             inference_state_device=self.state_device,
                                             video_storage_device=self.device, dtype=torch.float32)
        self._memory_position: torch.Tensor | None = None
        self._lock = threading.Lock()

    # -- the frame loop ---------------------------------------------------------------------------------------------
    def step(self, frame: np.ndarray, new_objects: dict[int, list[float]] | None = None) -> dict[int, TrackedObject]:
        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, the session is {self.width}x{self.height}")
        with self._lock, torch.inference_mode():
            self.frame_index += 1
            t = self.frame_index
            new_objects = new_objects or {}
            if not self.tracks and not new_objects:
                return {}
            self._add_frame(frame, t)
            prompts = self._prompts(new_objects)
            outcomes: dict[int, Outcome] = {}
            pending: list[tuple[Choice, bool]] = []
            for obj_id in new_objects:
                if obj_id not in self.tracks:
                    self.tracks[obj_id] = ObjectTrack(obj_id)
            for obj_id, track in self.tracks.items():
                if obj_id in prompts:
                    outcomes[obj_id] = self._condition(track, t, prompts[obj_id])
                    pending.append((outcomes[obj_id].output, True))
                else:
                    outcomes[obj_id] = self.policy.step(self, track, t)
                    pending += [(choice, False) for choice in outcomes[obj_id].memories]
            self._encode_memories(pending, t)
            for track in self.tracks.values():
                self.policy.prune(track, t, self.num_pointers)
            assert self._hf.processed_frames is not None  # _add_frame stored this frame in it
            self._hf.processed_frames.pop(t, None)  # the features are cached; the pixels are not needed again
            self.last_choice = {obj_id: outcome.output.index for obj_id, outcome in outcomes.items()}
            return {obj_id: self._result(outcome.output) for obj_id, outcome in outcomes.items()}

    def remove(self, obj_ids) -> None:
        """Stop following these objects (frees their memory)."""
        with self._lock:
            for obj_id in obj_ids:
                self.tracks.pop(obj_id, None)

    def close(self) -> None:
        with self._lock:
            self.tracks.clear()
            self._hf.reset_inference_session()
            self._hf.processed_frames = None

    # -- what the families call -------------------------------------------------------------------------------------
    def run(self, track: ObjectTrack, t: int, plan: MemoryPlan, point_inputs: dict | None = None,
            pathway: int = 0) -> tuple[Candidates, CandidateScores]:
        """One pass of the model for one object under `plan`: its candidates, and their scores (through the hook)."""
        with self.model.planned(plan):
            self.model._run_single_frame_inference(
                inference_session=self._hf, frame_idx=t, obj_idx=0, batch_size=1,
                is_init_cond_frame=point_inputs is not None, point_inputs=point_inputs, mask_inputs=None,
                reverse=False, streaming=True)
        candidates = plan.candidates
        if candidates is None:  # the planned mask head did not run: transformers' SAM 2 internals changed
            raise RuntimeError(f"the SAM 2 model call left no candidates for frame {t} (transformers version?)")
        scores = candidates.scores()
        if self.score_hook is not None:
            scores = self.score_hook(track.obj_id, t, pathway, scores)
        return candidates, scores

    def choose(self, candidates: Candidates, scores: CandidateScores, index: int, t: int,
               kalman_score: float | None = None, valid: bool = True) -> Choice:
        """Candidate `index` as output and memory entry (its pointer; the mask memory is encoded after the frame)."""
        entry = MemoryEntry(frame=t, object_pointer=self.model.candidate_pointer(candidates, index),
                            object_score=scores.object_score, iou=float(scores.ious[index]),
                            kalman_score=kalman_score, valid=valid)
        return Choice(candidates=candidates, index=index, entry=entry)

    # -- internals --------------------------------------------------------------------------------------------------
    def _add_frame(self, frame: np.ndarray, t: int) -> None:
        pixel_values = self.processor(images=frame, return_tensors="pt").pixel_values
        self._hf.add_new_frame(pixel_values.to(self.device), t)

    def _prompts(self, new_objects: dict[int, list[float]]) -> dict[int, dict]:
        """Box prompts as SAM 2 takes them: two corner points labelled 2 and 3, in model-input pixels."""
        prompts = {}
        for obj_id, box in new_objects.items():
            boxes = self.processor(input_boxes=[[list(map(float, box))]], original_sizes=[[self.height, self.width]],
                                   return_tensors="pt")["input_boxes"]
            prompts[obj_id] = {"point_coords": boxes.reshape(1, 1, 2, 2).to(self.device),
                               "point_labels": torch.tensor([[[2, 3]]], dtype=torch.int32, device=self.device)}
        return prompts

    def _condition(self, track: ObjectTrack, t: int, point_inputs: dict) -> Outcome:
        """A prompt frame: a conditioning memory for the object (its first, or a re-prompt after it was lost)."""
        candidates, scores = self.run(track, t, MemoryPlan(), point_inputs=point_inputs)
        choice = self.choose(candidates, scores, 0, t)  # a box prompt gives one mask
        track.conditioning[t] = choice.entry
        while len(track.conditioning) > MAX_CONDITIONING_FRAMES:  # keep the first prompt, drop the oldest re-prompt
            del track.conditioning[sorted(track.conditioning)[1]]
        self.policy.restart(track)
        return Outcome(output=choice, memories=[choice])

    def _encode_memories(self, pending: list[tuple[Choice, bool]], t: int) -> None:
        """Run the memory encoder on the kept masks, batched; prompt masks are binarized as in SAM 2."""
        vision_features = self.model._prepare_vision_features(self._hf, t, batch_size=1)[0][-1]
        for from_prompt in (True, False):
            # each memory entry once (SAM2Long pathways may share one)
            group = list({id(c.entry): c for c, prompted in pending if prompted == from_prompt}.values())
            if not group:
                continue
            features, positions = self.model._encode_new_memory(
                current_vision_feats=vision_features.expand(-1, len(group), -1),
                pred_masks_high_res=torch.stack([c.candidates.high_res[c.index][None] for c in group]),
                object_score_logits=torch.cat([c.candidates.object_score_logits for c in group]),
                is_mask_from_pts=from_prompt)
            if self._memory_position is None:  # depends on the feature shape only: one copy (as SAM 2 caches it)
                self._memory_position = positions[:, :1].to(self.state_device)
            for i, choice in enumerate(group):
                choice.entry.maskmem_features = features[:, i:i + 1].clone().to(self.state_device)
                choice.entry.maskmem_pos_enc = self._memory_position

    def _result(self, choice: Choice) -> TrackedObject:
        score = float(np.clip(choice.entry.iou, 0.0, 1.0))
        if choice.entry.object_score <= 0:
            return TrackedObject(box=None, mask=None, score=score, present=False)
        logits = choice.candidates.low_res[choice.index][None, None].float()
        mask = F.interpolate(logits, size=(self.height, self.width), mode="bilinear", align_corners=False)[0, 0] > 0
        rows, cols = torch.nonzero(mask.any(dim=1)).flatten(), torch.nonzero(mask.any(dim=0)).flatten()
        box = None
        if len(rows):
            box = [float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)]
        return TrackedObject(box=box, mask=mask.cpu().numpy() if self.keep_masks else None, score=score, present=True)


class Sam2Tracker:
    """A loaded SAM 2.1 checkpoint (model + processor) and the policy of the family that drives it (handed in by
    runners/tracking/registry.py: `policy(settings, model_config)`); sessions share the model."""

    detects = False  # it follows the objects it is prompted with (by the request or by the detection runner)

    def __init__(self, name: str, model_id: str, family: str, policy: Callable[..., Sam2Policy], device: str) -> None:
        self.name, self.family, self.policy, self.device = name, family, policy, device
        self.processor = from_pretrained(Sam2VideoProcessor.from_pretrained, model_id, name)
        model = from_pretrained(Sam2TrackerModel.from_pretrained, model_id, name)
        # transformers wraps PreTrainedModel.to with functools.wraps, which mypy does not bind as a method
        self.model = model.to(device).eval()  # type: ignore[arg-type]

    def make_policy(self, settings=None) -> Sam2Policy:
        return self.policy(settings, self.model.config)

    def new_session(self, spec: SessionSpec, *, settings=None, state_device: str | None = None) -> Sam2Session:
        """`settings`: the family's settings (SamuraiSettings / Sam2LongSettings), defaults from the papers.
        `state_device`: where memory is kept (default: the model's device; "cpu" saves GPU memory)."""
        if self.model is None:
            raise RuntimeError(f"{self.name} is closed")
        return Sam2Session(self, spec.width, spec.height, spec.keep_masks, settings, state_device)

    def close(self) -> None:
        self.model = None
