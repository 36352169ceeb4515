from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.post_validation_dropped import PostValidationDropped
    from ..models.post_validation_removed import PostValidationRemoved
    from ..models.post_validation_repaired import PostValidationRepaired


T = TypeVar("T", bound="PostValidation")


@_attrs_define
class PostValidation:
    """What was done to the model's suggestions before they were returned.

    Attributes:
        dropped (PostValidationDropped | Unset): left out, by reason: duplicate (of an existing type or another
            suggestion, case and separators ignored), malformed, over_limit (past max_suggestions_per_type),
            dangling_relationship (an end that is no entity type)
        repaired (PostValidationRepaired | Unset): references respelled to a known type
        removed (PostValidationRemoved | Unset): unknown names taken out of applicable_to
    """

    dropped: PostValidationDropped | Unset = UNSET
    repaired: PostValidationRepaired | Unset = UNSET
    removed: PostValidationRemoved | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dropped: dict[str, Any] | Unset = UNSET
        if not isinstance(self.dropped, Unset):
            dropped = self.dropped.to_dict()

        repaired: dict[str, Any] | Unset = UNSET
        if not isinstance(self.repaired, Unset):
            repaired = self.repaired.to_dict()

        removed: dict[str, Any] | Unset = UNSET
        if not isinstance(self.removed, Unset):
            removed = self.removed.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if dropped is not UNSET:
            field_dict["dropped"] = dropped
        if repaired is not UNSET:
            field_dict["repaired"] = repaired
        if removed is not UNSET:
            field_dict["removed"] = removed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.post_validation_dropped import PostValidationDropped  # noqa: PLC0415
        from ..models.post_validation_removed import PostValidationRemoved  # noqa: PLC0415
        from ..models.post_validation_repaired import PostValidationRepaired  # noqa: PLC0415

        d = dict(src_dict)
        _dropped = d.pop("dropped", UNSET)
        dropped: PostValidationDropped | Unset
        if isinstance(_dropped, Unset):
            dropped = UNSET
        else:
            dropped = PostValidationDropped.from_dict(_dropped)

        _repaired = d.pop("repaired", UNSET)
        repaired: PostValidationRepaired | Unset
        if isinstance(_repaired, Unset):
            repaired = UNSET
        else:
            repaired = PostValidationRepaired.from_dict(_repaired)

        _removed = d.pop("removed", UNSET)
        removed: PostValidationRemoved | Unset
        if isinstance(_removed, Unset):
            removed = UNSET
        else:
            removed = PostValidationRemoved.from_dict(_removed)

        post_validation = cls(
            dropped=dropped,
            repaired=repaired,
            removed=removed,
        )

        post_validation.additional_properties = d
        return post_validation

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
