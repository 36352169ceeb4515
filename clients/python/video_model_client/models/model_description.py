from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_description_weights import ModelDescriptionWeights
from ..types import UNSET, Unset

T = TypeVar("T", bound="ModelDescription")


@_attrs_define
class ModelDescription:
    """
    Attributes:
        task (str):
        model_id (str):
        framework (str):
        engine (str): the engine serving it: the configured one, or where it fell back to once loaded
        quantization (str):
        vram_gb (float):
        loaded (bool):
        description (str):
        weights (ModelDescriptionWeights): pretrained: the published checkpoint; demo-trained: trained on synthetic data
            by scripts/make_demo_models.py; random: the real architecture with random weights (meaningless answers: the
            offline demo and the tests)
        engines_passed_over (list[str] | None | Unset): engines not used for it, and why
        serves_as (None | str | Unset): the checkpoint that serves this name when it is not the named model's own;
            absent when it is
    """

    task: str
    model_id: str
    framework: str
    engine: str
    quantization: str
    vram_gb: float
    loaded: bool
    description: str
    weights: ModelDescriptionWeights
    engines_passed_over: list[str] | None | Unset = UNSET
    serves_as: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task = self.task

        model_id = self.model_id

        framework = self.framework

        engine = self.engine

        quantization = self.quantization

        vram_gb = self.vram_gb

        loaded = self.loaded

        description = self.description

        weights = self.weights.value

        engines_passed_over: list[str] | None | Unset
        if isinstance(self.engines_passed_over, Unset):
            engines_passed_over = UNSET
        elif isinstance(self.engines_passed_over, list):
            engines_passed_over = self.engines_passed_over

        else:
            engines_passed_over = self.engines_passed_over

        serves_as: None | str | Unset
        if isinstance(self.serves_as, Unset):
            serves_as = UNSET
        else:
            serves_as = self.serves_as

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "task": task,
                "model_id": model_id,
                "framework": framework,
                "engine": engine,
                "quantization": quantization,
                "vram_gb": vram_gb,
                "loaded": loaded,
                "description": description,
                "weights": weights,
            }
        )
        if engines_passed_over is not UNSET:
            field_dict["engines_passed_over"] = engines_passed_over
        if serves_as is not UNSET:
            field_dict["serves_as"] = serves_as

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        task = d.pop("task")

        model_id = d.pop("model_id")

        framework = d.pop("framework")

        engine = d.pop("engine")

        quantization = d.pop("quantization")

        vram_gb = d.pop("vram_gb")

        loaded = d.pop("loaded")

        description = d.pop("description")

        weights = ModelDescriptionWeights(d.pop("weights"))

        def _parse_engines_passed_over(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                engines_passed_over_type_0 = cast(list[str], data)

                return engines_passed_over_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        engines_passed_over = _parse_engines_passed_over(d.pop("engines_passed_over", UNSET))

        def _parse_serves_as(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        serves_as = _parse_serves_as(d.pop("serves_as", UNSET))

        model_description = cls(
            task=task,
            model_id=model_id,
            framework=framework,
            engine=engine,
            quantization=quantization,
            vram_gb=vram_gb,
            loaded=loaded,
            description=description,
            weights=weights,
            engines_passed_over=engines_passed_over,
            serves_as=serves_as,
        )

        model_description.additional_properties = d
        return model_description

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
