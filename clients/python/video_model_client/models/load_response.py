from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LoadResponse")


@_attrs_define
class LoadResponse:
    """
    Attributes:
        model_id (str):
        status (Literal['loaded']):
        device (None | str):
        load_seconds (float | None):
        memory_bytes (int | None):
    """

    model_id: str
    status: Literal["loaded"]
    device: None | str
    load_seconds: float | None
    memory_bytes: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model_id = self.model_id

        status = self.status

        device: None | str
        device = self.device

        load_seconds: float | None
        load_seconds = self.load_seconds

        memory_bytes: int | None
        memory_bytes = self.memory_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model_id": model_id,
                "status": status,
                "device": device,
                "load_seconds": load_seconds,
                "memory_bytes": memory_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model_id = d.pop("model_id")

        status = cast(Literal["loaded"], d.pop("status"))
        if status != "loaded":
            raise ValueError(f"status must match const 'loaded', got '{status}'")

        def _parse_device(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        device = _parse_device(d.pop("device"))

        def _parse_load_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        load_seconds = _parse_load_seconds(d.pop("load_seconds"))

        def _parse_memory_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        memory_bytes = _parse_memory_bytes(d.pop("memory_bytes"))

        load_response = cls(
            model_id=model_id,
            status=status,
            device=device,
            load_seconds=load_seconds,
            memory_bytes=memory_bytes,
        )

        load_response.additional_properties = d
        return load_response

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
