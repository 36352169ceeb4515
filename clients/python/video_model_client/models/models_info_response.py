from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.models_info_response_available_models import ModelsInfoResponseAvailableModels
    from ..models.models_info_response_models import ModelsInfoResponseModels
    from ..models.models_info_response_selected_models import ModelsInfoResponseSelectedModels


T = TypeVar("T", bound="ModelsInfoResponse")


@_attrs_define
class ModelsInfoResponse:
    """
    Attributes:
        available_models (ModelsInfoResponseAvailableModels):
        selected_models (ModelsInfoResponseSelectedModels):
        loaded_models (list[str]):
        device (str):
        models (ModelsInfoResponseModels):
    """

    available_models: ModelsInfoResponseAvailableModels
    selected_models: ModelsInfoResponseSelectedModels
    loaded_models: list[str]
    device: str
    models: ModelsInfoResponseModels
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        available_models = self.available_models.to_dict()

        selected_models = self.selected_models.to_dict()

        loaded_models = self.loaded_models

        device = self.device

        models = self.models.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "available_models": available_models,
                "selected_models": selected_models,
                "loaded_models": loaded_models,
                "device": device,
                "models": models,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.models_info_response_available_models import ModelsInfoResponseAvailableModels  # noqa: PLC0415
        from ..models.models_info_response_models import ModelsInfoResponseModels  # noqa: PLC0415
        from ..models.models_info_response_selected_models import ModelsInfoResponseSelectedModels  # noqa: PLC0415

        d = dict(src_dict)
        available_models = ModelsInfoResponseAvailableModels.from_dict(d.pop("available_models"))

        selected_models = ModelsInfoResponseSelectedModels.from_dict(d.pop("selected_models"))

        loaded_models = cast(list[str], d.pop("loaded_models"))

        device = d.pop("device")

        models = ModelsInfoResponseModels.from_dict(d.pop("models"))

        models_info_response = cls(
            available_models=available_models,
            selected_models=selected_models,
            loaded_models=loaded_models,
            device=device,
            models=models,
        )

        models_info_response.additional_properties = d
        return models_info_response

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
