from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.track_box import TrackBox


T = TypeVar("T", bound="Track")


@_attrs_define
class Track:
    """
    Attributes:
        track_id (int):
        label (str):
        frame_count (int):
        start_frame (int):
        end_frame (int):
        boxes (list[TrackBox]):
    """

    track_id: int
    label: str
    frame_count: int
    start_frame: int
    end_frame: int
    boxes: list[TrackBox]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        track_id = self.track_id

        label = self.label

        frame_count = self.frame_count

        start_frame = self.start_frame

        end_frame = self.end_frame

        boxes = []
        for boxes_item_data in self.boxes:
            boxes_item = boxes_item_data.to_dict()
            boxes.append(boxes_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "track_id": track_id,
                "label": label,
                "frame_count": frame_count,
                "start_frame": start_frame,
                "end_frame": end_frame,
                "boxes": boxes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.track_box import TrackBox  # noqa: PLC0415

        d = dict(src_dict)
        track_id = d.pop("track_id")

        label = d.pop("label")

        frame_count = d.pop("frame_count")

        start_frame = d.pop("start_frame")

        end_frame = d.pop("end_frame")

        boxes = []
        _boxes = d.pop("boxes")
        for boxes_item_data in _boxes:
            boxes_item = TrackBox.from_dict(boxes_item_data)

            boxes.append(boxes_item)

        track = cls(
            track_id=track_id,
            label=label,
            frame_count=frame_count,
            start_frame=start_frame,
            end_frame=end_frame,
            boxes=boxes,
        )

        track.additional_properties = d
        return track

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
