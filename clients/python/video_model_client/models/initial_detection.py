from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.b_box import BBox


T = TypeVar("T", bound="InitialDetection")


@_attrs_define
class InitialDetection:
    """
    Attributes:
        bbox (BBox):
        label (str):
        frame_number (int | None | Unset): default: the range's first frame
    """

    bbox: BBox
    label: str
    frame_number: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bbox = self.bbox.to_dict()

        label = self.label

        frame_number: int | None | Unset
        if isinstance(self.frame_number, Unset):
            frame_number = UNSET
        else:
            frame_number = self.frame_number

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bbox": bbox,
                "label": label,
            }
        )
        if frame_number is not UNSET:
            field_dict["frame_number"] = frame_number

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.b_box import BBox  # noqa: PLC0415

        d = dict(src_dict)
        bbox = BBox.from_dict(d.pop("bbox"))

        label = d.pop("label")

        def _parse_frame_number(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        frame_number = _parse_frame_number(d.pop("frame_number", UNSET))

        initial_detection = cls(
            bbox=bbox,
            label=label,
            frame_number=frame_number,
        )

        initial_detection.additional_properties = d
        return initial_detection

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
