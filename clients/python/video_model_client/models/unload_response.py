from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.unload_response_status import UnloadResponseStatus

T = TypeVar("T", bound="UnloadResponse")


@_attrs_define
class UnloadResponse:
    """
    Attributes:
        model_id (str):
        status (UnloadResponseStatus):
        memory_freed_bytes (int):
    """

    model_id: str
    status: UnloadResponseStatus
    memory_freed_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model_id = self.model_id

        status = self.status.value

        memory_freed_bytes = self.memory_freed_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model_id": model_id,
                "status": status,
                "memory_freed_bytes": memory_freed_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model_id = d.pop("model_id")

        status = UnloadResponseStatus(d.pop("status"))

        memory_freed_bytes = d.pop("memory_freed_bytes")

        unload_response = cls(
            model_id=model_id,
            status=status,
            memory_freed_bytes=memory_freed_bytes,
        )

        unload_response.additional_properties = d
        return unload_response

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
