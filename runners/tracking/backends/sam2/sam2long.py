"""SAM2Long (Ding et al., "SAM2Long: Enhancing SAM 2 for Long Video Segmentation with a Training-Free Memory Tree",
arXiv 2410.16268): SAM 2.1 with a tree of memory pathways per object.

- P = 3 pathways, each with its own memory and a cumulative score. On every frame each pathway proposes SAM 2's 3
  candidate masks: 3P children, scored parent + log(predicted IoU + 1e-5).
- Confident frame (some pathway's |object score| > `uncertainty`): the P best children survive. Uncertain frame: the
  children are taken best first but only one per distinct signed IoU (IoU if present else −IoU, to 2 decimals); if
  fewer than P, the best child of each pathway not yet represented fills up — distinct hypotheses survive occlusions.
- Memory per pathway: walking back from the previous frame, frames with predicted IoU > 0.3 and object score > 0, up
  to 15, the previous frame always; the newest 6 are the mask memories and all kept frames give the object pointers,
  in temporal slots by rank.
- Object-aware memory modulation: memory frames (and pointers) are ranked by object score (conditioning frames count
  as 10) and their attention keys scaled by linspace(0.95, 1.05) in rank order (`KeyScaledMemoryAttention`).
- The output is the mask of the pathway with the highest cumulative score.

Written from the paper and a reading of the official code (Mark12Ding/SAM2Long), not copied. Differences: frames
are streamed, so the output of a frame is final — the official code picks the best pathway at the end of the video
and traces it back, revising earlier frames; here each frame reports its best pathway at that time. Every object has
its own tree (the official VOS script runs objects one at a time). Pointers use all kept frames (the official code
skips the oldest). Cumulative scores are re-based each frame (the best becomes 0) so that they stay finite on long
streams; the ranking is unchanged. Pathways with identical memory give identical candidates, so they are run once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runners.tracking.backends.sam2.core import (
    Choice,
    MemoryEntry,
    MemoryPlan,
    ObjectTrack,
    Outcome,
    Sam2Session,
    prune_frames,
    ranked_plan,
    walk_back,
)


@dataclass(frozen=True)
class Sam2LongSettings:
    num_pathways: int = 3
    uncertainty: float = 1.0  # |object score| above which a frame is confident
    iou_threshold: float = 0.3  # memory gate on the predicted IoU (and object score > 0)
    max_kept: int = 15  # frames the memory walk-back collects (pointers)
    num_memories: int = 6  # of which the newest are mask memories
    key_scale: tuple[float, float] = (0.95, 1.05)
    conditioning_score: float = 10.0  # the object score a conditioning frame counts as when ranking memories


@dataclass(frozen=True)
class Child:
    """One candidate of one pathway on one frame."""
    pathway: int
    candidate: int
    score: float  # the parent's cumulative score + log(IoU + 1e-5)
    iou: float
    object_score: float

    @property
    def signed_iou(self) -> float:
        return self.iou if self.object_score > 0 else -self.iou


def sam2long_children(pathway_scores: Sequence[float], ious: Sequence[Sequence[float]],
                      object_scores: Sequence[float]) -> list[Child]:
    """The 3P children of P pathways: `ious[p]` are pathway p's candidates' predicted IoUs."""
    return [Child(p, j, parent + math.log(float(iou) + 1e-5), float(iou), float(object_scores[p]))
            for p, parent in enumerate(pathway_scores) for j, iou in enumerate(ious[p])]


def sam2long_select_children(children: Sequence[Child], num_pathways: int, uncertainty: float) -> list[Child]:
    """The children that become the next pathways: the best P on a confident frame; on an uncertain frame one per
    distinct signed IoU, then the best child of each unrepresented pathway until there are P."""
    ranked = sorted(children, key=lambda c: c.score, reverse=True)  # stable: ties keep pathway order
    if max(abs(c.object_score) for c in children) > uncertainty:
        return ranked[:num_pathways]
    kept, seen = [], set()
    for child in ranked:
        if round(child.signed_iou, 2) not in seen:
            kept.append(child)
            seen.add(round(child.signed_iou, 2))
        if len(kept) == num_pathways:
            return kept
    represented = {c.pathway for c in kept}
    for pathway in sorted({c.pathway for c in children} - represented):
        if len(kept) == num_pathways:
            break
        kept.append(next(c for c in ranked if c.pathway == pathway))
    return kept


def sam2long_memory_gate(iou: float, object_score: float, iou_threshold: float = 0.3) -> bool:
    return iou > iou_threshold and object_score > 0


def sam2long_memory_frames(history: Mapping[int, tuple[float, float]], t: int, iou_threshold: float = 0.3,
                           max_kept: int = 15, num_memories: int = 6) -> tuple[list[int], list[int]]:
    """One pathway's memory for frame t from its history {frame: (predicted IoU, object score)}: the mask-memory
    frames and the pointer frames (both ascending)."""
    valid = {f: sam2long_memory_gate(iou, score, iou_threshold) for f, (iou, score) in history.items()}
    kept = walk_back(valid, t, max_kept)
    return kept[-num_memories:], kept[-max_kept:]


def rank_scales(scores: Sequence[float], low: float = 0.95, high: float = 1.05) -> list[float]:
    """linspace(low, high) assigned in order of score: the lowest score gets `low`, the highest `high`."""
    scales = np.empty(len(scores))
    scales[np.argsort(np.asarray(scores, dtype=np.float64), kind="stable")] = np.linspace(low, high, len(scores))
    return scales.tolist()


@dataclass
class Pathway:
    score: float
    frames: dict[int, MemoryEntry]


class Sam2LongPolicy:
    """SAM2Long's memory tree for every object of a session (`track.state`: its pathways; `track.frames`: the best
    pathway's memory)."""

    def __init__(self, settings: Sam2LongSettings | None = None, model_config=None) -> None:
        self.settings = settings or Sam2LongSettings()

    def restart(self, track: ObjectTrack) -> None:
        track.state = None  # a prompt: the tree regrows from the best pathway's memory (`track.frames`)

    def plan(self, conditioning: Mapping[int, MemoryEntry], frames: Mapping[int, MemoryEntry], t: int,
             num_pointers: int) -> MemoryPlan:
        s = self.settings
        history = {f: (e.iou, e.object_score) for f, e in frames.items()}
        memory, pointers = sam2long_memory_frames(history, t, s.iou_threshold, min(s.max_kept, num_pointers - 1),
                                                  s.num_memories)
        plan = ranked_plan(conditioning, frames, t, memory, pointers, num_pointers)
        if len(plan.memory) > 1:  # nothing to rank with the conditioning frame alone
            conditioning_scores = [s.conditioning_score] * len(conditioning)
            plan.frame_key_weights = rank_scales(conditioning_scores + [frames[f].object_score for f in memory],
                                                 *s.key_scale)
            plan.pointer_key_weights = rank_scales(conditioning_scores + [frames[f].object_score for f in pointers],
                                                   *s.key_scale)
        return plan

    def step(self, session: Sam2Session, track: ObjectTrack, t: int) -> Outcome:
        pathways = track.state
        if pathways is None:
            return self._first_step(session, track, t)
        assert isinstance(pathways, list)  # the pathways _first_step grew after the prompt
        s = self.settings
        runs: dict[int, tuple] = {}
        for members in _same_memory(pathways).values():
            plan = self.plan(track.conditioning, pathways[members[0]].frames, t, session.num_pointers)
            run = session.run(track, t, plan, pathway=members[0])
            runs.update((p, run) for p in members)
        children = sam2long_children([p.score for p in pathways], [runs[p][1].ious for p in range(len(pathways))],
                                     [runs[p][1].object_score for p in range(len(pathways))])
        choices: dict[tuple[int, int], Choice] = {}  # the same child of the same run is one memory entry
        grown: list[Pathway] = []
        for child in sam2long_select_children(children, s.num_pathways, s.uncertainty):
            candidates, scores = runs[child.pathway]
            key = (id(candidates), child.candidate)
            if key not in choices:
                choices[key] = session.choose(
                    candidates, scores, child.candidate, t,
                    valid=sam2long_memory_gate(child.iou, child.object_score, s.iou_threshold))
            grown.append(Pathway(child.score, {**pathways[child.pathway].frames, t: choices[key].entry}))
        best = max(range(len(grown)), key=lambda i: grown[i].score)
        top = grown[best].score
        for pathway in grown:
            pathway.score -= top
        track.state, track.frames = grown, grown[best].frames
        output = grown[best].frames[t]
        return Outcome(output=next(c for c in choices.values() if c.entry is output), memories=list(choices.values()))

    def _first_step(self, session: Sam2Session, track: ObjectTrack, t: int) -> Outcome:
        """After a prompt: SAM 2's choice, then P identical pathways with score 0 (as the official code)."""
        s = self.settings
        candidates, scores = session.run(track, t, self.plan(track.conditioning, track.frames, t, session.num_pointers))
        index = int(np.argmax(scores.ious))
        choice = session.choose(candidates, scores, index, t,
                                valid=sam2long_memory_gate(float(scores.ious[index]), scores.object_score,
                                                           s.iou_threshold))
        track.state = [Pathway(0.0, {**track.frames, t: choice.entry}) for _ in range(s.num_pathways)]
        track.frames = track.state[0].frames
        return Outcome(output=choice, memories=[choice])

    def prune(self, track: ObjectTrack, t: int, num_pointers: int) -> None:
        pathways = track.state if isinstance(track.state, list) else []  # None right after a prompt
        for frames in [track.frames] + [p.frames for p in pathways]:
            prune_frames(frames, t, keep_recent=1, keep_valid=self.settings.max_kept)


def _same_memory(pathways: Sequence[Pathway]) -> dict[tuple, list[int]]:
    """Pathways grouped by identical memory (same entries on the same frames): one model run serves a group."""
    groups: dict[tuple, list[int]] = {}
    for p, pathway in enumerate(pathways):
        groups.setdefault(tuple((f, id(e)) for f, e in sorted(pathway.frames.items())), []).append(p)
    return groups
