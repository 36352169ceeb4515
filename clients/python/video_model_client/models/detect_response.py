from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.frame_detections import FrameDetections
    from ..models.video_meta import VideoMeta


T = TypeVar("T", bound="DetectResponse")


@_attrs_define
class DetectResponse:
    """
    Attributes:
        detections (list[FrameDetections]): one entry per requested frame, in request order
        total_frames (int):
        total_detections (int):
        model_used (str):
        inference_time_ms (int):
        video (VideoMeta):
    """

    detections: list[FrameDetections]
    total_frames: int
    total_detections: int
    model_used: str
    inference_time_ms: int
    video: VideoMeta
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        detections = []
        for detections_item_data in self.detections:
            detections_item = detections_item_data.to_dict()
            detections.append(detections_item)

        total_frames = self.total_frames

        total_detections = self.total_detections

        model_used = self.model_used

        inference_time_ms = self.inference_time_ms

        video = self.video.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "detections": detections,
                "total_frames": total_frames,
                "total_detections": total_detections,
                "model_used": model_used,
                "inference_time_ms": inference_time_ms,
                "video": video,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.frame_detections import FrameDetections  # noqa: PLC0415
        from ..models.video_meta import VideoMeta  # noqa: PLC0415

        d = dict(src_dict)
        detections = []
        _detections = d.pop("detections")
        for detections_item_data in _detections:
            detections_item = FrameDetections.from_dict(detections_item_data)

            detections.append(detections_item)

        total_frames = d.pop("total_frames")

        total_detections = d.pop("total_detections")

        model_used = d.pop("model_used")

        inference_time_ms = d.pop("inference_time_ms")

        video = VideoMeta.from_dict(d.pop("video"))

        detect_response = cls(
            detections=detections,
            total_frames=total_frames,
            total_detections=total_detections,
            model_used=model_used,
            inference_time_ms=inference_time_ms,
            video=video,
        )

        detect_response.additional_properties = d
        return detect_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
