from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.detected_object import DetectedObject


T = TypeVar("T", bound="FrameDetections")


@_attrs_define
class FrameDetections:
    """
    Attributes:
        frame_number (int):
        timestamp (float): seconds: frame_number / the file's frame rate
        detection_count (int):
        objects (list[DetectedObject]):
    """

    frame_number: int
    timestamp: float
    detection_count: int
    objects: list[DetectedObject]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frame_number = self.frame_number

        timestamp = self.timestamp

        detection_count = self.detection_count

        objects = []
        for objects_item_data in self.objects:
            objects_item = objects_item_data.to_dict()
            objects.append(objects_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frame_number": frame_number,
                "timestamp": timestamp,
                "detection_count": detection_count,
                "objects": objects,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.detected_object import DetectedObject  # noqa: PLC0415

        d = dict(src_dict)
        frame_number = d.pop("frame_number")

        timestamp = d.pop("timestamp")

        detection_count = d.pop("detection_count")

        objects = []
        _objects = d.pop("objects")
        for objects_item_data in _objects:
            objects_item = DetectedObject.from_dict(objects_item_data)

            objects.append(objects_item)

        frame_detections = cls(
            frame_number=frame_number,
            timestamp=timestamp,
            detection_count=detection_count,
            objects=objects,
        )

        frame_detections.additional_properties = d
        return frame_detections

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
