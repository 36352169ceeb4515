"""SAM 2.1, SAMURAI and SAM2Long: the selection rules on crafted numbers, and the three families end to end on a tiny
random SAM 2.1 (random weights give degenerate scores, so choices on the real model are tested by injecting scores
through the session's `score_hook`)."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from runners.core.errors import ModelUnavailable
from runners.core.geometry import box_iou
from runners.tracking.backends.base import SessionSpec, TrackedObject
from runners.tracking.backends.sam2.core import (
    CandidateScores,
    MemoryEntry,
    MemoryPlan,
    current_plan,
    key_scales,
    walk_back,
)
from runners.tracking.backends.sam2.sam2long import (
    Child,
    Sam2LongSettings,
    rank_scales,
    sam2long_children,
    sam2long_memory_frames,
    sam2long_select_children,
)
from runners.tracking.backends.sam2.samurai import (
    KalmanBoxFilter,
    SamuraiSettings,
    SamuraiState,
    samurai_choose,
    samurai_memory_frames,
    samurai_memory_gate,
    settings_for,
)
from runners.tracking.registry import SAM2_FAMILIES, load_sam2_tracker

W, H = 96, 64
FAMILIES = SAM2_FAMILIES


def moving_box(t: int) -> list[float]:
    """An object moving right 4 px per frame (model-input pixels)."""
    return [10.0 + 4 * t, 20.0, 40.0 + 4 * t, 50.0]


FAR_BOX = [90.0, 90.0, 120.0, 120.0]


# ---------------------------------------------------------------------------------------------------------------------
# SAMURAI
# ---------------------------------------------------------------------------------------------------------------------
def warmed_state(frames: int = 6, stable_frames: int = 3) -> SamuraiState:
    """A SAMURAI state that has followed `moving_box` for frames 1..frames-1 with confident masks."""
    state = SamuraiState(SamuraiSettings(stable_frames=stable_frames))
    for t in range(1, frames):
        index, _ = state.select([moving_box(t), FAR_BOX, [0, 0, 0, 0]], [0.9, 0.5, 0.1])
        assert index == 0
    return state


def test_kalman_filter_learns_constant_velocity():
    kf = KalmanBoxFilter(moving_box(0))
    for t in range(1, 10):
        kf.predict()
        kf.update(moving_box(t))
    kf.predict()
    assert box_iou(kf.box, moving_box(10)) > 0.9
    assert box_iou(kf.box, moving_box(9)) < box_iou(kf.box, moving_box(10))  # it moved on, not stayed


def test_samurai_choose_prefers_the_candidate_that_agrees_with_motion():
    kalman_box = moving_box(6)
    boxes = [FAR_BOX, moving_box(6), [0, 0, 0, 0]]
    ious = [0.9, 0.8, 0.1]
    assert int(np.argmax(ious)) == 0  # SAM 2's choice
    index, kalman_ious = samurai_choose(boxes, ious, kalman_box, alpha=0.25)
    assert index == 1
    assert kalman_ious[0] == 0 and kalman_ious[1] == pytest.approx(1.0) and kalman_ious[2] == 0  # empty mask: 0
    assert samurai_choose(boxes, ious, kalman_box, alpha=0.0)[0] == 0  # α = 0 is SAM 2


def test_samurai_state_after_warm_up_uses_the_kalman_score():
    state = warmed_state()
    index, kalman_score = state.select([FAR_BOX, moving_box(6), [0, 0, 0, 0]], [0.9, 0.8, 0.1])
    assert index == 1 and kalman_score > 0.8


def test_samurai_warm_up_keeps_sam2s_choice_and_restarts_on_low_iou():
    state = SamuraiState(SamuraiSettings(stable_frames=15))
    assert state.select([moving_box(1), FAR_BOX], [0.9, 0.5]) == (0, None)  # starts the filter
    assert state.stable_frames == 1
    # still warming up: the argmax wins although candidate 1 agrees with the motion, and no Kalman score
    assert state.select([FAR_BOX, moving_box(2)], [0.9, 0.8]) == (0, None)
    assert state.stable_frames == 2
    assert state.select([moving_box(3), FAR_BOX], [0.2, 0.1]) == (0, None)  # IoU below 0.3: warm-up restarts
    assert state.stable_frames == 0
    assert state.select([FAR_BOX, moving_box(4)], [0.9, 0.1]) == (0, None)  # restarted at the argmax box
    assert state.filter.box == pytest.approx(FAR_BOX)


def test_samurai_low_iou_after_warm_up_resets_stability():
    state = warmed_state()
    state.select([moving_box(6), FAR_BOX], [0.25, 0.2])
    assert state.stable_frames == 0


def test_samurai_memory_gate():
    assert samurai_memory_gate(0.9, 1.0, None)  # warm-up frames have no Kalman score and pass
    assert samurai_memory_gate(0.9, 1.0, 0.4)
    assert not samurai_memory_gate(0.5, 1.0, 0.4)  # IoU must exceed 0.5
    assert not samurai_memory_gate(0.9, -0.1, 0.4)  # object absent
    assert not samurai_memory_gate(0.9, 1.0, 0.0)  # disagrees with the motion


def test_samurai_memory_frames_skip_gated_frames():
    valid = {f: True for f in range(1, 20)} | {19: False, 18: False, 15: False, 14: False}
    memory = samurai_memory_frames(valid, t=20)
    assert memory == [11, 12, 13, 16, 17, 19]  # the newest 6 valid, and t-1 although gated
    assert samurai_memory_frames({1: False, 2: False}, t=3) == [2]  # nothing valid: the previous frame alone


def test_walk_back_stops_after_max_kept():
    valid = {f: True for f in range(100)}
    kept = walk_back(valid, t=100, max_kept=15)
    assert kept == list(range(85, 100))
    assert walk_back({f: f % 2 == 0 for f in range(100)}, t=100, max_kept=3) == [94, 96, 98, 99]


def test_samurai_alpha_follows_the_checkpoint_size():
    class Config:
        def __init__(self, width):
            self.vision_config = type("V", (), {"backbone_config": type("B", (), {"hidden_size": width})()})()

    assert settings_for(Config(144)).kalman_weight == 0.15  # Hiera-L
    assert settings_for(Config(96)).kalman_weight == 0.25


# ---------------------------------------------------------------------------------------------------------------------
# SAM2Long
# ---------------------------------------------------------------------------------------------------------------------
def test_sam2long_cumulative_score_keeps_the_pathway_greedy_argmax_drops():
    # pathway 0 has been reliable, pathway 1 not; this frame pathway 1 has the single best candidate
    children = sam2long_children([0.0, -3.0], [[0.6, 0.5, 0.4], [0.95, 0.1, 0.1]], [5.0, 5.0])
    greedy = max(children, key=lambda c: c.iou)
    assert (greedy.pathway, greedy.candidate) == (1, 0)
    kept = sam2long_select_children(children, num_pathways=2, uncertainty=1.0)
    assert [(c.pathway, c.candidate) for c in kept] == [(0, 0), (0, 1)]  # greedy's pathway is gone
    assert kept[0].score == pytest.approx(math.log(0.6 + 1e-5))


def test_sam2long_confident_frame_keeps_the_top_p():
    children = sam2long_children([0.0, -0.1, -0.2], [[0.9, 0.9, 0.1]] * 3, [2.0, 0.1, 0.1])
    kept = sam2long_select_children(children, num_pathways=3, uncertainty=1.0)
    assert [(c.pathway, c.candidate) for c in kept] == [(0, 0), (0, 1), (1, 0)]  # duplicates of IoU allowed


def test_sam2long_uncertain_frame_keeps_distinct_signed_ious():
    # |object score| <= 1 everywhere: uncertain. Pathway 0's candidates round to the same IoU
    children = [Child(0, 0, -0.1, 0.901, 0.5), Child(0, 1, -0.11, 0.899, 0.5), Child(1, 0, -0.2, 0.9, -0.5),
                Child(1, 1, -0.3, 0.5, -0.5), Child(2, 0, -0.4, 0.7, 0.5)]
    kept = sam2long_select_children(children, num_pathways=3, uncertainty=1.0)
    # 0.90 once; -0.90 (absent) is a different hypothesis; 0.899 rounds to 0.90 and is skipped
    assert [(c.pathway, c.candidate) for c in kept] == [(0, 0), (1, 0), (1, 1)]


def test_sam2long_uncertain_frame_fills_with_unrepresented_pathways():
    children = [Child(0, j, -0.1 * j, 0.9, 0.5) for j in range(3)] + [Child(1, 0, -1.0, 0.9, 0.5),
                                                                     Child(2, 0, -2.0, 0.9, 0.5)]
    kept = sam2long_select_children(children, num_pathways=3, uncertainty=1.0)
    assert [(c.pathway, c.candidate) for c in kept] == [(0, 0), (1, 0), (2, 0)]


def test_sam2long_memory_selection():
    history = {f: (0.9, 2.0) for f in range(1, 30)}
    history |= {29: (0.1, 2.0), 28: (0.9, -1.0), 27: (0.3, 2.0), 20: (0.2, 2.0)}
    memory, pointers = sam2long_memory_frames(history, t=30, iou_threshold=0.3)
    assert memory == [22, 23, 24, 25, 26, 29]  # IoU <= 0.3 or absent: skipped; the previous frame always
    assert pointers == [12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 29]  # 15 kept, 20 skipped


def test_rank_scales_follow_the_object_scores():
    assert rank_scales([10.0, -1.0, 3.0]) == pytest.approx([1.05, 0.95, 1.0])
    assert rank_scales([0.5]) == pytest.approx([0.95])


def test_key_scales_cover_frames_then_pointers():
    def entry(tokens):
        return MemoryEntry(frame=0, object_pointer=torch.zeros(1, 1, 8), object_score=1.0, iou=1.0,
                           maskmem_features=torch.zeros(tokens, 1, 4))

    a, b = entry(4), entry(4)
    plan = MemoryPlan(memory=[(0, a), (1, b)], pointers=[(3, a), (1, b)], frame_key_weights=[1.05, 0.95],
                      pointer_key_weights=[0.95, 1.05])
    scale = key_scales(plan, num_tokens=12, num_pointer_tokens=4)  # 2 frames x 4 tokens + 2 pointers x 2 tokens
    assert scale.tolist() == pytest.approx([1.05] * 4 + [0.95] * 4 + [0.95] * 2 + [1.05] * 2)
    assert key_scales(replace(plan, frame_key_weights=None), 12, 4) is None
    with pytest.raises(ValueError):
        key_scales(plan, num_tokens=13, num_pointer_tokens=4)


# ---------------------------------------------------------------------------------------------------------------------
# The tiny random model
# ---------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tiny model is faster on one thread, and does not fight other processes for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def sam2_dir(tmp_path_factory) -> str:
    from scripts.tiny_models import build_sam2

    return build_sam2(str(tmp_path_factory.mktemp("sam2-tiny")))


@pytest.fixture(scope="module")
def trackers(sam2_dir):
    return {family: load_sam2_tracker(f"tiny-{family}", sam2_dir, family, "cpu") for family in FAMILIES}


def frames(n: int, seed: int = 0) -> list[np.ndarray]:
    """Two coloured boxes drifting right over noise."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(n):
        frame = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
        frame[8:30, 5 + t:35 + t] = (220, 40, 40)
        frame[34:60, 50 + t:85 + t] = (40, 220, 40)
        out.append(frame)
    return out


def stream(session, images, boxes=None, later=None, at=4):
    """Step through `images`: objects 1 and 2 on the first frame, object 3 at step `at`."""
    boxes = {1: [5, 8, 35, 30], 2: [50, 34, 85, 60]} if boxes is None else boxes
    later = {3: [0, 40, 20, 63]} if later is None else later
    results = []
    for t, image in enumerate(images):
        results.append(session.step(image, boxes if t == 0 else later if t == at else None))
    return results


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_streams_objects(trackers, family):
    session = trackers[family].new_session(SessionSpec(W, H))
    results = stream(session, frames(8))
    for t, frame_results in enumerate(results):
        assert set(frame_results) == ({1, 2, 3} if t >= 4 else {1, 2})
        for result in frame_results.values():
            assert isinstance(result, TrackedObject)
            assert isinstance(result.present, bool)
            assert 0.0 <= result.score <= 1.0
            if result.present:
                assert result.mask.shape == (H, W) and result.mask.dtype == bool
            else:
                assert result.mask is None and result.box is None
            if result.box is not None:
                x0, y0, x1, y1 = result.box
                assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    assert any(r.present and r.box is not None for r in results[-1].values())  # the tiny model is set to "present"
    session.close()


def test_first_call_without_objects_returns_nothing(trackers):
    session = trackers["sam2"].new_session(SessionSpec(W, H))
    assert session.step(frames(1)[0]) == {}
    assert set(session.step(frames(1)[0], {7: [5, 8, 35, 30]})) == {7}


def test_keep_masks_false_gives_boxes_only(trackers):
    session = trackers["samurai"].new_session(SessionSpec(W, H, keep_masks=False))
    results = stream(session, frames(3))
    assert all(r.mask is None for r in results[-1].values())
    assert any(r.box is not None for r in results[-1].values())


def test_frame_of_the_wrong_size_is_refused(trackers):
    session = trackers["sam2"].new_session(SessionSpec(W, H))
    with pytest.raises(ValueError, match="96x64"):
        session.step(np.zeros((H + 1, W, 3), dtype=np.uint8), {1: [0, 0, 10, 10]})


def test_sam2_family_is_transformers_own_video_predictor(trackers, sam2_dir):
    """The stock family reproduces Sam2VideoModel.forward exactly: same memories, pointers and object scores."""
    from transformers import Sam2VideoModel

    images, boxes = frames(6, seed=3), {1: [5, 8, 35, 30], 2: [50, 34, 85, 60]}
    session = trackers["sam2"].new_session(SessionSpec(W, H))
    for t, image in enumerate(images):
        session.step(image, boxes if t == 0 else None)

    model, processor = Sam2VideoModel.from_pretrained(sam2_dir).eval(), trackers["sam2"].processor
    reference = processor.init_video_session(inference_device="cpu", dtype=torch.float32)
    processor.add_inputs_to_inference_session(reference, frame_idx=0, obj_ids=[1, 2],
                                              input_boxes=[[boxes[1], boxes[2]]], original_size=(H, W))
    for image in images:
        model(inference_session=reference, frame=processor(images=image, return_tensors="pt").pixel_values[0])
    for obj_idx, obj_id in enumerate([1, 2]):
        stored = reference.output_dict_per_obj[obj_idx]["non_cond_frame_outputs"]
        for t, entry in session.tracks[obj_id].frames.items():
            assert torch.equal(entry.maskmem_features, stored[t]["maskmem_features"])
            assert torch.equal(entry.object_pointer, stored[t]["object_pointer"])
            assert entry.object_score == stored[t]["object_score_logits"].item()


def samurai_hook(decisive_frame: int):
    """Frames before `decisive_frame`: the argmax candidate follows `moving_box`. On it: the argmax candidate is far
    away and the second best is where the motion says."""
    def hook(obj_id, t, pathway, scores: CandidateScores) -> CandidateScores:
        if t < decisive_frame:
            return replace(scores, ious=np.array([0.9, 0.5, 0.1]),
                           boxes=np.array([moving_box(t), FAR_BOX, [0, 0, 0, 0]]))
        return replace(scores, ious=np.array([0.9, 0.8, 0.1]), boxes=np.array([FAR_BOX, moving_box(t), [0, 0, 0, 0]]))
    return hook


def test_samurai_and_sam2_choose_differently_on_the_same_frame(trackers):
    chosen = {}
    for family in ("sam2", "samurai"):
        settings = SamuraiSettings(stable_frames=2) if family == "samurai" else None
        session = trackers[family].new_session(SessionSpec(W, H), settings=settings)
        session.score_hook = samurai_hook(decisive_frame=5)
        results = stream(session, frames(6), boxes={1: [5, 8, 35, 30]}, later={})
        chosen[family] = (session.last_choice[1], results[-1][1].score)
    assert chosen["sam2"] == (0, pytest.approx(0.9))
    assert chosen["samurai"] == (1, pytest.approx(0.8))


def sam2long_hook(obj_id, t, pathway, scores: CandidateScores) -> CandidateScores:
    """Frame 2 is uncertain with 3 distinct candidates (the tree branches); on frame 3 the branch that took
    candidate 1 (pathway 1) finds a confident candidate while the best branch so far (pathway 0) does not."""
    if t == 2:
        return replace(scores, ious=np.array([0.9, 0.5, 0.2]), object_score=0.5)
    if t == 3:
        ious = {0: [0.2, 0.25, 0.1], 1: [0.9, 0.1, 0.1]}.get(pathway, [0.1, 0.1, 0.1])
        return replace(scores, ious=np.array(ious), object_score=5.0)
    return scores


def test_sam2long_and_sam2_choose_differently_on_the_same_frame(trackers):
    chosen = {}
    for family in ("sam2", "sam2long"):
        session = trackers[family].new_session(SessionSpec(W, H))
        session.score_hook = sam2long_hook
        results = stream(session, frames(4), boxes={1: [5, 8, 35, 30]}, later={})
        chosen[family] = (session.last_choice[1], results[-1][1].score)
    assert chosen["sam2"] == (1, pytest.approx(0.25))  # pathway 0's numbers: argmax
    assert chosen["sam2long"] == (0, pytest.approx(0.9))  # the best cumulative pathway (1) and its best candidate


def test_sam2long_runs_pathways_with_their_own_memory(trackers):
    session = trackers["sam2long"].new_session(SessionSpec(W, H))
    session.score_hook = sam2long_hook
    stream(session, frames(3), boxes={1: [5, 8, 35, 30]}, later={})
    pathways = session.tracks[1].state
    assert len(pathways) == 3
    assert [p.frames[2].iou for p in pathways] == pytest.approx([0.9, 0.5, 0.2])  # branched on frame 2
    assert pathways[0].frames[1] is pathways[2].frames[1]  # shared history is shared, not copied
    assert max(p.score for p in pathways) == 0.0  # re-based


def test_sam2long_modulates_memory_keys(trackers):
    """The cross-attention sees keys (memory + position) scaled per memory frame and pointer, and unscaled values."""
    model = trackers["sam2long"].model
    width, tokens = model.config.vision_config.fpn_hidden_size, (model.config.image_size // 16) ** 2
    split = width // 64  # tokens per object pointer
    entries = [MemoryEntry(frame=f, object_pointer=torch.randn(1, 1, width), object_score=1.0, iou=1.0,
                           maskmem_features=torch.randn(tokens, 1, 64)) for f in range(2)]
    memory = torch.cat([e.maskmem_features for e in entries] + [torch.randn(2 * split, 1, 64)])
    position, current = torch.randn_like(memory), torch.randn(tokens, 1, width)
    seen = {}

    def capture(module, args, kwargs):
        seen["key"], seen["value"] = kwargs["key"][0, 0], kwargs["value"][0, 0]

    def attend(frame_weights, pointer_weights):
        plan = MemoryPlan(memory=[(0, entries[0]), (1, entries[1])], pointers=[(1, entries[0]), (2, entries[1])],
                          frame_key_weights=frame_weights, pointer_key_weights=pointer_weights)
        with torch.inference_mode(), model.planned(plan):
            assert current_plan() is plan
            return model.memory_attention(current, memory, torch.zeros_like(current), position, 2 * split)

    handle = model.memory_attention.layers[0].cross_attn_image.register_forward_pre_hook(capture, with_kwargs=True)
    try:
        with torch.inference_mode():
            plain = model.memory_attention(current, memory, torch.zeros_like(current), position, 2 * split)
        assert torch.allclose(attend([1.0, 1.0], [1.0, 1.0]), plain, atol=1e-5)
        attend([0.95, 1.05], [1.05, 0.95])
    finally:
        handle.remove()
    scale = torch.tensor([0.95] * tokens + [1.05] * tokens + [1.05] * split + [0.95] * split)[:, None]
    assert torch.allclose(seen["key"], (memory + position)[:, 0] * scale, atol=1e-5)
    assert torch.equal(seen["value"], memory[:, 0])
    assert current_plan() is None


@pytest.mark.parametrize("family", FAMILIES)
def test_memory_stays_bounded(trackers, family):
    session = trackers[family].new_session(SessionSpec(W, H))
    # SAMURAI keeps confident frames beyond the pointer window: two frames in three are confident
    session.score_hook = lambda obj_id, t, pathway, s: replace(s, ious=np.full(len(s.ious), 0.9 if t % 3 else 0.4))
    images = frames(40)
    results = stream(session, images, at=4)
    for track in session.tracks.values():
        assert len(track.conditioning) == 1
        assert len(track.frames) <= {"sam2": 15, "samurai": 30, "sam2long": 16}[family]
        for pathway in track.state if family == "sam2long" else []:
            assert len(pathway.frames) <= 16
    assert not session._hf.processed_frames  # no pixels kept
    assert len(session._hf.cache._vision_features) <= 1
    assert len(session.tracks[1].frames) >= 15  # what the families can still reach is kept
    if family == "samurai":
        assert min(session.tracks[1].frames) < 39 - 15  # confident frames outlive the pointer window
    assert set(results[-1]) == {1, 2, 3}


def test_re_prompting_an_object_keeps_its_conditioning_bounded(trackers):
    session = trackers["samurai"].new_session(SessionSpec(W, H))
    for t, image in enumerate(frames(12)):
        session.step(image, {1: [5, 8, 35, 30]} if t % 2 == 0 else None)
    assert sorted(session.tracks[1].conditioning) == [0, 8, 10]  # the first prompt and the newest
    session.remove([1])
    assert session.step(frames(1)[0]) == {}


def test_sessions_share_the_model_across_threads(trackers):
    images = frames(6, seed=5)
    session = trackers["sam2long"].new_session(SessionSpec(W, H))
    expected = [{k: r.mask for k, r in step.items()} for step in stream(session, images)]
    outputs, errors = [None, None], []

    def run(i):
        try:
            outputs[i] = stream(trackers["sam2long"].new_session(SessionSpec(W, H)), images)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for output in outputs:
        for step, want in zip(output, expected):
            assert all(np.array_equal(step[k].mask, want[k]) for k in want)


def test_loading_errors(sam2_dir, tmp_path):
    with pytest.raises(ValueError, match="family"):
        load_sam2_tracker("x", sam2_dir, "sam3", "cpu")
    with pytest.raises(ModelUnavailable):  # no checkpoint there: a 503 that says what to run
        load_sam2_tracker("sam2-1", str(tmp_path), "sam2", "cpu")


def test_close_frees_the_model(sam2_dir):
    tracker = load_sam2_tracker("x", sam2_dir, "sam2", "cpu")
    tracker.close()
    assert tracker.model is None
    with pytest.raises(RuntimeError):
        tracker.new_session(SessionSpec(W, H))


def test_long_streams_use_the_default_settings(trackers):
    session = trackers["sam2long"].new_session(SessionSpec(W, H))
    assert session.policy.settings == Sam2LongSettings()
    assert trackers["samurai"].new_session(SessionSpec(W, H)).policy.settings.kalman_weight == 0.25
