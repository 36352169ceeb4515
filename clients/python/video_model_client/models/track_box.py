from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.b_box import BBox
    from ..models.rle_mask import RLEMask


T = TypeVar("T", bound="TrackBox")


@_attrs_define
class TrackBox:
    """
    Attributes:
        frame_number (int):
        bbox (BBox):
        confidence (float | None | Unset):
        interpolated (bool | Unset):  Default: False.
        mask (None | RLEMask | Unset):
    """

    frame_number: int
    bbox: BBox
    confidence: float | None | Unset = UNSET
    interpolated: bool | Unset = False
    mask: None | RLEMask | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.rle_mask import RLEMask  # noqa: PLC0415

        frame_number = self.frame_number

        bbox = self.bbox.to_dict()

        confidence: float | None | Unset
        if isinstance(self.confidence, Unset):
            confidence = UNSET
        else:
            confidence = self.confidence

        interpolated = self.interpolated

        mask: dict[str, Any] | None | Unset
        if isinstance(self.mask, Unset):
            mask = UNSET
        elif isinstance(self.mask, RLEMask):
            mask = self.mask.to_dict()
        else:
            mask = self.mask

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frame_number": frame_number,
                "bbox": bbox,
            }
        )
        if confidence is not UNSET:
            field_dict["confidence"] = confidence
        if interpolated is not UNSET:
            field_dict["interpolated"] = interpolated
        if mask is not UNSET:
            field_dict["mask"] = mask

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.b_box import BBox  # noqa: PLC0415
        from ..models.rle_mask import RLEMask  # noqa: PLC0415

        d = dict(src_dict)
        frame_number = d.pop("frame_number")

        bbox = BBox.from_dict(d.pop("bbox"))

        def _parse_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        confidence = _parse_confidence(d.pop("confidence", UNSET))

        interpolated = d.pop("interpolated", UNSET)

        def _parse_mask(data: object) -> None | RLEMask | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                mask_type_0 = RLEMask.from_dict(data)

                return mask_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RLEMask | Unset, data)

        mask = _parse_mask(d.pop("mask", UNSET))

        track_box = cls(
            frame_number=frame_number,
            bbox=bbox,
            confidence=confidence,
            interpolated=interpolated,
            mask=mask,
        )

        track_box.additional_properties = d
        return track_box

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
