"""SAMURAI (Yang et al., "SAMURAI: Adapting Segment Anything Model for Zero-Shot Visual Tracking with Motion-Aware
Memory", arXiv 2411.11922): SAM 2.1 with motion-aware mask selection and motion-aware memory selection.

- Motion: a Kalman filter per object on its box (centre x, centre y, aspect, height and their velocities, constant
  velocity), its noise proportional to the box height. After a warm-up of `stable_frames` confident frames (predicted
  IoU > `stable_iou`, argmax selection meanwhile) each candidate mask is scored
  α·IoU(Kalman-predicted box, candidate box) + (1 − α)·predicted IoU and the best one is kept; a kept mask with a low
  predicted IoU restarts the warm-up.
- Memory: walking back from the previous frame, a frame is kept if its predicted IoU > 0.5, its object score > 0 and
  its Kalman score > 0 (frames from the warm-up have none and pass), up to 15; the previous frame always; the 6 most
  recent kept frames (plus the conditioning frames) form the memory, in temporal slots by rank. Object pointers are
  SAM 2's.

Written from the paper and a reading of the official code (yangchris11/samurai), not copied. Differences: the
official code follows one object; here every object has its own filter and warm-up counter. The walk-back covers all
of an object's tracked frames (the official loop stops before frame 2 of the video). The boxes are measured on the
model-input-sized masks, as in the official code. `present` is SAM 2's object score > 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from runners.core.geometry import box_iou
from runners.tracking.backends.sam2.core import (
    ObjectTrack,
    Outcome,
    Sam2Session,
    prune_frames,
    ranked_plan,
    walk_back,
)


@dataclass(frozen=True)
class SamuraiSettings:
    kalman_weight: float = 0.25  # α (kf_score_weight): 0.25 for SAM 2.1 tiny/small/base+, 0.15 for large
    stable_frames: int = 15  # confident frames before the Kalman score is used
    stable_iou: float = 0.3  # a predicted IoU below this restarts the warm-up
    memory_iou: float = 0.5  # memory gates: predicted IoU, object score logit, Kalman score (all strictly above)
    memory_object_score: float = 0.0
    memory_kalman_score: float = 0.0
    max_kept: int = 15  # frames the memory walk-back collects
    num_memories: int = 6  # of which the newest form the memory


def settings_for(model_config) -> SamuraiSettings:
    """The paper's α for the checkpoint: 0.15 for SAM 2.1-L (Hiera-L, width 144), 0.25 otherwise."""
    width = getattr(getattr(model_config.vision_config, "backbone_config", None), "hidden_size", None)
    return SamuraiSettings(kalman_weight=0.15 if width == 144 else 0.25)


# ---------------------------------------------------------------------------------------------------------------------
# Boxes and the Kalman filter
# ---------------------------------------------------------------------------------------------------------------------
def xyxy_to_xyah(box) -> np.ndarray:
    x0, y0, x1, y1 = box
    h = (y1 - y0) or 1.0  # an empty box has height 0: keep the aspect finite
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / h, h], dtype=np.float64)


def xyah_to_xyxy(state) -> list[float]:
    cx, cy, a, h = state[:4]
    return [cx - a * h / 2, cy - h / 2, cx + a * h / 2, cy + h / 2]


class KalmanBoxFilter:
    """Constant-velocity Kalman filter on (cx, cy, aspect, h, and their velocities), observing (cx, cy, aspect, h).
    Position noise is h/20, velocity noise h/160 (aspect: 1e-2 and 1e-5; measurement aspect 0.1), as in SAMURAI
    (after the SORT/DeepSORT filter)."""

    POSITION = 1 / 20
    VELOCITY = 1 / 160

    def __init__(self, box) -> None:
        z = xyxy_to_xyah(box)
        self.mean = np.concatenate([z, np.zeros(4)])
        h = z[3]
        std = [2 * self.POSITION * h, 2 * self.POSITION * h, 1e-2, 2 * self.POSITION * h,
               10 * self.VELOCITY * h, 10 * self.VELOCITY * h, 1e-5, 10 * self.VELOCITY * h]
        self.covariance = np.diag(np.square(std))
        self.motion = np.eye(8) + np.eye(8, k=4)  # x += v (dt = 1 processed frame)
        self.observe = np.eye(4, 8)

    @property
    def box(self) -> list[float]:
        """The current estimate as [x0, y0, x1, y1]."""
        return xyah_to_xyxy(self.mean)

    def predict(self) -> None:
        h = self.mean[3]
        std = [self.POSITION * h, self.POSITION * h, 1e-2, self.POSITION * h,
               self.VELOCITY * h, self.VELOCITY * h, 1e-5, self.VELOCITY * h]
        self.mean = self.motion @ self.mean
        self.covariance = self.motion @ self.covariance @ self.motion.T + np.diag(np.square(std))

    def update(self, box) -> None:
        h = self.mean[3]
        noise = np.diag(np.square([self.POSITION * h, self.POSITION * h, 1e-1, self.POSITION * h]))
        projected = self.observe @ self.covariance @ self.observe.T + noise
        gain = np.linalg.solve(projected, self.observe @ self.covariance).T  # P Hᵀ S⁻¹ (S symmetric)
        self.mean = self.mean + gain @ (xyxy_to_xyah(box) - self.observe @ self.mean)
        self.covariance = self.covariance - gain @ projected @ gain.T


# ---------------------------------------------------------------------------------------------------------------------
# The selection rules
# ---------------------------------------------------------------------------------------------------------------------
def samurai_choose(candidate_boxes, predicted_ious, kalman_box, alpha: float) -> tuple[int, np.ndarray]:
    """The candidate maximizing α·IoU(Kalman box, candidate box) + (1 − α)·predicted IoU; also the Kalman IoUs."""
    kalman_ious = np.array([box_iou(kalman_box, b) for b in candidate_boxes])
    weighted = alpha * kalman_ious + (1 - alpha) * np.asarray(predicted_ious, dtype=np.float64)
    return int(np.argmax(weighted)), kalman_ious


@dataclass
class SamuraiState:
    """One object's motion model: the Kalman filter and the count of confident frames since it (re)started."""
    settings: SamuraiSettings = field(default_factory=SamuraiSettings)
    filter: KalmanBoxFilter | None = None
    stable_frames: int = 0

    def select(self, candidate_boxes, predicted_ious) -> tuple[int, float | None]:
        """The candidate to keep on a tracked frame, and its Kalman score (None before the filter is trusted)."""
        s, ious = self.settings, np.asarray(predicted_ious, dtype=np.float64)
        best = int(np.argmax(ious))
        if self.filter is None or self.stable_frames == 0:  # (re)start on the most confident mask
            self.filter, self.stable_frames = KalmanBoxFilter(candidate_boxes[best]), 1
            return best, None
        self.filter.predict()
        if self.stable_frames < s.stable_frames:  # warm-up: SAM 2's choice, teaching the filter
            if ious[best] > s.stable_iou:
                self.filter.update(candidate_boxes[best])
                self.stable_frames += 1
            else:
                self.stable_frames = 0
            return best, None
        chosen, kalman_ious = samurai_choose(candidate_boxes, ious, self.filter.box, s.kalman_weight)
        if ious[chosen] < s.stable_iou:
            self.stable_frames = 0
        else:
            self.filter.update(candidate_boxes[chosen])
        return chosen, float(kalman_ious[chosen])


def samurai_memory_gate(iou: float, object_score: float, kalman_score: float | None,
                        settings: SamuraiSettings = SamuraiSettings()) -> bool:
    """May this frame be a memory? Confident mask, object present, and agreeing with the motion (when scored)."""
    return (iou > settings.memory_iou and object_score > settings.memory_object_score
            and (kalman_score is None or kalman_score > settings.memory_kalman_score))


def samurai_memory_frames(valid: dict[int, bool], t: int, max_kept: int = 15, num_memories: int = 6) -> list[int]:
    """The tracked frames frame t remembers: the newest `num_memories` of the walk-back (ascending)."""
    return walk_back(valid, t, max_kept)[-num_memories:]


# ---------------------------------------------------------------------------------------------------------------------
# The family
# ---------------------------------------------------------------------------------------------------------------------
class SamuraiPolicy:
    """SAMURAI's candidate choice and memory for every object of a session."""

    def __init__(self, settings: SamuraiSettings | None = None, model_config=None) -> None:
        self.settings = settings or (settings_for(model_config) if model_config is not None else SamuraiSettings())

    def restart(self, track: ObjectTrack) -> None:
        track.state = SamuraiState(self.settings)

    def step(self, session: Sam2Session, track: ObjectTrack, t: int) -> Outcome:
        s = self.settings
        memory = samurai_memory_frames({f: e.valid for f, e in track.frames.items()}, t, s.max_kept, s.num_memories)
        plan = ranked_plan(track.conditioning, track.frames, t, memory, None, session.num_pointers)
        candidates, scores = session.run(track, t, plan)
        state = track.state
        assert isinstance(state, SamuraiState)  # restart() set it when the object was prompted
        index, kalman_score = state.select(scores.boxes, scores.ious)
        valid = samurai_memory_gate(float(scores.ious[index]), scores.object_score, kalman_score, s)
        choice = session.choose(candidates, scores, index, t, kalman_score=kalman_score, valid=valid)
        track.frames[t] = choice.entry
        return Outcome(output=choice, memories=[choice])

    def prune(self, track: ObjectTrack, t: int, num_pointers: int) -> None:
        prune_frames(track.frames, t, keep_recent=num_pointers - 1, keep_valid=self.settings.max_kept)
