"""The public API contract (README "API", published as openapi.json): request and response bodies of every route,
and the error envelope.

Unknown fields are ignored; numbers must be finite; every bound here is enforced before any work starts, and a
violation is a 400 whose `details.errors` lists pydantic's findings.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)

# the results runners return are part of the contract: defined once, where both sides import them
from runners.core.config import Weights
from runners.core.contracts import BBox, Body, DetectedObject, Track
from runners.core.contracts import RLEMask as RLEMask
from runners.core.contracts import TrackBox as TrackBox

MAX_FRAMES_PER_DETECT = 1000
LABEL = Field(min_length=1, max_length=200)


_Body = Body  # every body: unknown fields ignored, numbers finite (runners/core/contracts.py)


# -- shared pieces ------------------------------------------------------------------------------------------------
class ErrorResponse(_Body):
    error: str = Field(description="short title, e.g. 'Validation Error'")
    message: str = Field(description="what went wrong and what to do")
    details: dict = Field(default_factory=dict, description="field, errors, request_id, ...")
    status: int | None = Field(default=None, description="a failed job's error: the HTTP status its synchronous route "
                                                         "would have answered (5xx and 429 are worth retrying)")


class VideoRef(_Body):
    video_path: str | None = Field(default=None, max_length=4096, description="a file inside the media roots")
    video_id: str | None = Field(default=None, max_length=200, description="<root>/<video_id>.<ext> in the media roots")

    @model_validator(mode="after")
    def _one_video(self):
        if not self.video_path and not self.video_id:
            raise ValueError("give video_path or video_id")
        if self.video_path and self.video_id:
            raise ValueError("give video_path or video_id, not both")
        return self


class FrameRange(_Body):
    start: int = Field(ge=0)
    end: int = Field(ge=0, description="inclusive; past the last frame it is clamped to it")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError("frame_range.end must be greater than frame_range.start")
        return self


class VideoMeta(_Body):
    width: int
    height: int
    fps: float
    frame_count: int


# -- detection ------------------------------------------------------------------------------------------------------
def split_prompt(text_prompt: str) -> list[str]:
    """`"a person. a red car."` or `"person, red car"` -> ["a person", "a red car"]; duplicates dropped."""
    phrases = [p.strip() for p in re.split(r"[.,;\n]", text_prompt)]
    return list(dict.fromkeys(p for p in phrases if p))


class DetectRequest(VideoRef):
    frame_numbers: list[int] | None = Field(
        default=None, min_length=1, max_length=MAX_FRAMES_PER_DETECT,
        description="frames to detect on (0-based), answered in this order; or give frame_range (and stride)")
    frame_range: FrameRange | None = Field(
        default=None, description="instead of frame_numbers: every stride-th frame from start to end (inclusive); "
                                  "a synchronous request covers at most 1000 frames, a job the whole video")
    stride: int = Field(default=1, ge=1, le=100_000, description="with frame_range: every stride-th frame")
    model: str | None = Field(default=None, max_length=100, description="detection model; default: the selected one")
    classes: list[str] | None = Field(default=None, max_length=1000, description="detect exactly these labels")
    text_prompt: str | None = Field(default=None, max_length=4000, description="zero-shot phrases: 'a. b.' or 'a, b'")
    auto_detect: bool = Field(default=False, description="use the model's default vocabulary (COCO's 80 names)")
    confidence_threshold: float = Field(default=0.5, ge=0, le=1)
    nms_threshold: float = Field(default=0.45, ge=0, le=1)
    class_thresholds: dict[str, float] | None = Field(default=None, description="per-label confidence thresholds")
    batch_size: int | None = Field(default=None, ge=1, le=64, description="hint: frames sent to the runner per call")
    max_detections: int = Field(default=300, ge=1, le=1000, description="per frame")

    @field_validator("frame_numbers")
    @classmethod
    def _non_negative(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(n < 0 for n in value):
            raise ValueError("frame numbers must be >= 0")
        return value

    @field_validator("classes")
    @classmethod
    def _clean_classes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = list(dict.fromkeys(c.strip() for c in value if c and c.strip()))
        if not cleaned:
            raise ValueError("classes must name at least one label")
        if any(len(c) > 200 for c in cleaned):
            raise ValueError("a class name is longer than 200 characters")
        return cleaned

    @field_validator("class_thresholds")
    @classmethod
    def _thresholds_in_range(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value and any(not 0 <= v <= 1 for v in value.values()):
            raise ValueError("class thresholds must be between 0 and 1")
        return value

    @model_validator(mode="after")
    def _one_frame_choice_and_vocabulary(self):
        if (self.frame_numbers is None) == (self.frame_range is None):
            raise ValueError("give frame_numbers or frame_range (with stride), one of them")
        if self.stride != 1 and self.frame_range is None:
            raise ValueError("stride goes with frame_range")
        if self.classes and self.text_prompt:
            raise ValueError("give classes or text_prompt, not both")
        if self.text_prompt is not None and not split_prompt(self.text_prompt):
            raise ValueError("text_prompt has no phrase in it")
        return self


class FrameDetections(_Body):
    frame_number: int
    timestamp: float = Field(description="seconds: frame_number / the file's frame rate")
    detection_count: int
    objects: list[DetectedObject]


class DetectResponse(_Body):
    detections: list[FrameDetections] = Field(description="one entry per requested frame, in request order")
    total_frames: int
    total_detections: int
    model_used: str
    inference_time_ms: int
    video: VideoMeta


# -- tracking -------------------------------------------------------------------------------------------------------
class InitialDetection(_Body):
    bbox: BBox
    label: str = LABEL
    frame_number: int | None = Field(default=None, ge=0, description="default: the range's first frame")


class TrackRequest(VideoRef):
    frame_range: FrameRange
    model: str | None = Field(default=None, max_length=100, validation_alias=AliasChoices("model", "tracking_model"))
    initial_detections: list[InitialDetection] | None = Field(default=None, max_length=500)
    auto_detect: bool = False
    detection_model: str = Field(default="yolo-world-v2", max_length=100)
    classes: list[str] | None = Field(default=None, max_length=1000)
    text_prompt: str | None = Field(default=None, max_length=4000)
    confidence_threshold: float = Field(default=0.7, ge=0, le=1)
    decimation: int = Field(default=1, ge=1, le=1000, description="process every Nth frame")
    interpolation: Literal["linear", "cubic", "none"] = "linear"
    max_gap_frames: int = Field(default=10, ge=0, le=100_000)
    include_masks: bool = Field(default=False, description="true: a COCO RLE mask per box")
    redetect_interval: int | None = Field(default=None, ge=1, le=100_000)


class TrackResponse(_Body):
    tracks: list[Track]
    total_tracks: int
    frames_processed: int
    model_used: str
    inference_time_ms: int
    decimated: bool
    decimation_factor: int


# -- summarization ------------------------------------------------------------------------------------------------
class Persona(_Body):
    role: str | None = Field(default=None, max_length=500)
    information_need: str | None = Field(default=None, max_length=4000)
    description: str | None = Field(default=None, max_length=4000)
    ontology_context: str | dict | list | None = Field(default=None, description="the analyst's vocabulary")


class SummarizeRequest(VideoRef):
    persona_context: str | None = Field(default=None, max_length=8000)
    persona: Persona | None = None
    persona_id: str | None = Field(default=None, max_length=200, description="echoed back")
    frame_count: int = Field(default=8, ge=1, le=64)
    sampling_strategy: Literal["uniform", "keyframe", "adaptive"] = "uniform"
    scene_threshold: float = Field(default=30.0, ge=0, le=255)
    complexity_metric: Literal["gradient", "entropy", "motion"] = "gradient"
    frame_range: FrameRange | None = None
    model: str | None = Field(default=None, max_length=100)
    max_new_tokens: int | None = Field(default=None, ge=1, le=16384)
    temperature: float | None = Field(default=None, ge=0, le=2)


class KeyFrame(_Body):
    frame_number: int
    timestamp: float
    description: str
    confidence: float | None = Field(default=None, ge=0, le=1, description="from token probabilities, else null")


class SummarizeResponse(_Body):
    id: str
    video_id: str | None
    persona_id: str | None
    summary: str
    visual_analysis: str | None
    key_frames: list[KeyFrame]
    confidence: float | None = Field(default=None, ge=0, le=1)
    visual_model_used: str
    engine: str
    processing_time_visual: float
    sampled_frames: list[int]
    sampling_strategy: str
    persona_applied: bool
    tokens_generated: int | None


# -- ontology augmentation ----------------------------------------------------------------------------------------
class ExistingOntology(_Body):
    entity_types: list[str] | None = Field(default=None, max_length=5000)
    event_types: list[str] | None = Field(default=None, max_length=5000)
    roles: list[str] | None = Field(default=None, max_length=5000)
    relationships: list[str] | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _some_names(self):
        # Every category counts: `{"entity_types": [""], "roles": ["pitcher"]}` has a name (fuzzing found it refused:
        # the first non-empty list alone was looked at).
        categories = (self.entity_types, self.event_types, self.roles, self.relationships)
        if not any(name.strip() for names in categories for name in names or ()):
            raise ValueError("existing_ontology has no names: give at least one entity type, event type, role or "
                             "relationship to build on")
        return self


class AugmentRequest(_Body):
    persona_name: str = Field(min_length=1, max_length=200)
    existing_ontology: ExistingOntology
    domain_context: str | None = Field(default=None, max_length=8000)
    task_description: str | None = Field(default=None, max_length=8000)
    model: str | None = Field(default=None, max_length=100)
    max_suggestions_per_type: int = Field(default=10, ge=1, le=50)
    temperature: float = Field(default=0.7, ge=0, le=2)
    include_definitions: bool = True
    include_examples: bool = True
    max_new_tokens: int | None = Field(default=None, ge=64, le=16384,
                                       description="the answer's token budget (default: the model's, else 4096)")


class ConfidenceSource(str, Enum):
    token_probability = "token_probability"
    model_rating = "model_rating"


class Suggestion(_Body):
    name: str = Field(description="written in the style of the category's existing names")
    definition: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1, description=(
        "token_probability: the geometric-mean probability of the tokens that wrote the name (engines that give "
        "log-probabilities: transformers, vLLM, SGLang); model_rating: the model's own 0-1 rating"))
    confidence_source: ConfidenceSource | None = None


class TypeSuggestion(Suggestion):
    examples: list[str] | None = None


class RoleSuggestion(Suggestion):
    applicable_to: list[str] = Field(default_factory=list, description="existing or suggested entity/event types")


class RelationshipSuggestion(Suggestion):
    source_type: str = Field(description="an existing or suggested entity type")
    target_type: str = Field(description="an existing or suggested entity type")


class OntologySuggestions(_Body):
    entity_types: list[TypeSuggestion] = Field(default_factory=list)
    event_types: list[TypeSuggestion] = Field(default_factory=list)
    roles: list[RoleSuggestion] = Field(default_factory=list)
    relationships: list[RelationshipSuggestion] = Field(default_factory=list)


class PostValidation(_Body):
    """What was done to the model's suggestions before they were returned."""
    dropped: dict[str, int] = Field(default_factory=dict, description=(
        "left out, by reason: duplicate (of an existing type or another suggestion, case and separators ignored), "
        "malformed, over_limit (past max_suggestions_per_type), dangling_relationship (an end that is no entity "
        "type)"))
    repaired: dict[str, int] = Field(default_factory=dict, description="references respelled to a known type")
    removed: dict[str, int] = Field(default_factory=dict, description="unknown names taken out of applicable_to")


class AugmentResponse(_Body):
    suggestions: OntologySuggestions
    model_used: str
    engine: str
    inference_time_ms: int
    tokens_generated: int | None
    total_suggestions: int
    post_validation: PostValidation = Field(default_factory=PostValidation)


# -- model management ---------------------------------------------------------------------------------------------
class ModelRequest(_Body):
    model_id: str = Field(min_length=1, max_length=100, description="a model name from /models/info")


class UnloadResponse(_Body):
    model_id: str
    status: Literal["unloaded", "not_loaded"]
    memory_freed_bytes: int


class LoadResponse(_Body):
    model_id: str
    status: Literal["loaded"]
    device: str | None
    load_seconds: float | None
    memory_bytes: int | None


class HealthResponse(_Body):
    status: Literal["healthy", "degraded"]
    models_loaded: list[str]
    device: str
    gpu_memory_allocated: str | None
    gpu_memory_reserved: str | None
    runners: dict[str, dict]
    jobs: dict[str, Any] = Field(default_factory=dict, description="the job queue: `queued`, and jobs per task and "
                                                                    "status (`by_task`)")


class ModelDescription(_Body):
    task: str
    model_id: str
    framework: str
    engine: str = Field(description="the engine serving it: the configured one, or where it fell back to once loaded")
    engines_passed_over: list[str] | None = Field(default=None, description="engines not used for it, and why")
    quantization: str
    vram_gb: float
    loaded: bool
    description: str
    weights: Weights = Field(
        description="pretrained: the published checkpoint; demo-trained: trained on synthetic data by "
                    "scripts/make_demo_models.py; random: the real architecture with random weights (meaningless "
                    "answers: the offline demo and the tests)")
    serves_as: str | None = Field(default=None, description="the checkpoint that serves this name when it is not the "
                                                            "named model's own; absent when it is")


class ModelsInfoResponse(_Body):
    available_models: dict[str, list[str]]
    selected_models: dict[str, str]
    loaded_models: list[str]
    device: str
    models: dict[str, ModelDescription]


# -- jobs -----------------------------------------------------------------------------------------------------------
JobTask = Literal["detect", "track", "summarize", "augment"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobSubmit(_Body):
    task: JobTask = Field(description="which route's work: detect, track, summarize or augment")
    request: dict[str, Any] = Field(description="the task's request body, exactly as its synchronous route takes it")


class JobProgress(_Body):
    done: int = Field(description="units finished; never goes down")
    total: int | None = Field(default=None, description="units in the job, once known")
    unit: str = Field(description="frames, or answers for the language tasks")
    fraction: float | None = Field(default=None, description="done / total")
    eta_s: float | None = Field(default=None, description="seconds left at the rate so far")


class JobResponse(_Body):
    job_id: str
    task: JobTask
    status: JobStatus
    progress: JobProgress
    attempts: int = Field(description="runs so far: more than 1 after a worker died and the job was taken again")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = Field(default=False, description="DELETE was asked while it ran; it stops shortly")
    error: ErrorResponse | None = Field(default=None, description="a failed job's error, in the API's envelope")
    request: dict[str, Any] = Field(description="the validated request")


class JobList(_Body):
    jobs: list[JobResponse]
    next_cursor: str | None = Field(default=None, description="pass as cursor for the next page; none when last")


# -- exports --------------------------------------------------------------------------------------------------------
ExportFormat = Literal["coco", "coco-video", "mot", "cvat", "labelstudio"]


class ExportVideo(_Body):
    """The video a result is about: the formats record its size and timing."""
    width: int = Field(gt=0, le=100_000)
    height: int = Field(gt=0, le=100_000)
    fps: float = Field(gt=0, le=10_000)
    frame_count: int = Field(gt=0)
    name: str | None = Field(default=None, max_length=2000,
                             description="the video's name or URL in the file (Label Studio loads the video from it)")


class ExportRequest(_Body):
    format: ExportFormat = Field(description="coco and cvat and labelstudio take both results; coco-video and mot "
                                             "take tracks")
    result: DetectResponse | TrackResponse = Field(description="a /api/detect or /api/track response, as answered")
    video: ExportVideo | None = Field(default=None, description="needed for a track result; a detect result "
                                                                "carries its own (name: 'video')")


# -- previews -------------------------------------------------------------------------------------------------------
class RenderRequest(VideoRef):
    result: DetectResponse | TrackResponse = Field(description="a /api/detect or /api/track response about this video")
    format: Literal["mp4", "png"] = Field(default="mp4", description="an H.264 MP4 of the frames, or a PNG contact "
                                                                      "sheet of some of them")
    frame_numbers: list[int] | None = Field(
        default=None, min_length=1, max_length=3000,
        description="the frames to show; default: the result's (an MP4 of all of them, a sheet of 16 spread over "
                    "them)")
    max_side: int = Field(default=960, ge=64, le=3840, description="the longer side of a frame, in pixels, at most")
