"""What crosses the process boundary between the runners and the public service, typed once: the detection and
tracking results a runner returns are the very objects the service answers with (services/schemas.py re-exports
them as part of the API contract), so nothing is built as a dict on one side and parsed again on the other."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    """Every body of the API: unknown fields are ignored, numbers must be finite."""
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, protected_namespaces=(), populate_by_name=True)


class BBox(Body):
    x: float = Field(ge=0, description="left edge, pixels from the frame's left")
    y: float = Field(ge=0, description="top edge, pixels from the frame's top")
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class DetectedObject(Body):
    bbox: BBox
    label: str
    confidence: float = Field(ge=0, le=1)
    class_id: int = Field(ge=0, description="index into the effective vocabulary (COCO ids for COCO names)")


class RLEMask(Body):
    size: list[int] = Field(description="[height, width]")
    counts: str = Field(description="COCO compressed RLE")


class TrackBox(Body):
    frame_number: int
    bbox: BBox
    confidence: float | None = Field(default=None, ge=0, le=1)
    interpolated: bool = False
    mask: RLEMask | None = None


class Track(Body):
    track_id: int
    label: str
    frame_count: int
    start_frame: int
    end_frame: int
    boxes: list[TrackBox]
