from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.b_box import BBox


T = TypeVar("T", bound="DetectedObject")


@_attrs_define
class DetectedObject:
    """
    Attributes:
        bbox (BBox):
        label (str):
        confidence (float):
        class_id (int): index into the effective vocabulary (COCO ids for COCO names)
    """

    bbox: BBox
    label: str
    confidence: float
    class_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bbox = self.bbox.to_dict()

        label = self.label

        confidence = self.confidence

        class_id = self.class_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bbox": bbox,
                "label": label,
                "confidence": confidence,
                "class_id": class_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.b_box import BBox  # noqa: PLC0415

        d = dict(src_dict)
        bbox = BBox.from_dict(d.pop("bbox"))

        label = d.pop("label")

        confidence = d.pop("confidence")

        class_id = d.pop("class_id")

        detected_object = cls(
            bbox=bbox,
            label=label,
            confidence=confidence,
            class_id=class_id,
        )

        detected_object.additional_properties = d
        return detected_object

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
