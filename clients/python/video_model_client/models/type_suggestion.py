from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.confidence_source import ConfidenceSource
from ..types import UNSET, Unset

T = TypeVar("T", bound="TypeSuggestion")


@_attrs_define
class TypeSuggestion:
    """
    Attributes:
        name (str): written in the style of the category's existing names
        definition (None | str | Unset):
        confidence (float | None | Unset): token_probability: the geometric-mean probability of the tokens that wrote
            the name (engines that give log-probabilities: transformers, vLLM, SGLang); model_rating: the model's own 0-1
            rating
        confidence_source (ConfidenceSource | None | Unset):
        examples (list[str] | None | Unset):
    """

    name: str
    definition: None | str | Unset = UNSET
    confidence: float | None | Unset = UNSET
    confidence_source: ConfidenceSource | None | Unset = UNSET
    examples: list[str] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        definition: None | str | Unset
        if isinstance(self.definition, Unset):
            definition = UNSET
        else:
            definition = self.definition

        confidence: float | None | Unset
        if isinstance(self.confidence, Unset):
            confidence = UNSET
        else:
            confidence = self.confidence

        confidence_source: None | str | Unset
        if isinstance(self.confidence_source, Unset):
            confidence_source = UNSET
        elif isinstance(self.confidence_source, ConfidenceSource):
            confidence_source = self.confidence_source.value
        else:
            confidence_source = self.confidence_source

        examples: list[str] | None | Unset
        if isinstance(self.examples, Unset):
            examples = UNSET
        elif isinstance(self.examples, list):
            examples = self.examples

        else:
            examples = self.examples

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if definition is not UNSET:
            field_dict["definition"] = definition
        if confidence is not UNSET:
            field_dict["confidence"] = confidence
        if confidence_source is not UNSET:
            field_dict["confidence_source"] = confidence_source
        if examples is not UNSET:
            field_dict["examples"] = examples

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_definition(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        definition = _parse_definition(d.pop("definition", UNSET))

        def _parse_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        confidence = _parse_confidence(d.pop("confidence", UNSET))

        def _parse_confidence_source(data: object) -> ConfidenceSource | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                confidence_source_type_0 = ConfidenceSource(data)

                return confidence_source_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ConfidenceSource | None | Unset, data)

        confidence_source = _parse_confidence_source(d.pop("confidence_source", UNSET))

        def _parse_examples(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                examples_type_0 = cast(list[str], data)

                return examples_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        examples = _parse_examples(d.pop("examples", UNSET))

        type_suggestion = cls(
            name=name,
            definition=definition,
            confidence=confidence,
            confidence_source=confidence_source,
            examples=examples,
        )

        type_suggestion.additional_properties = d
        return type_suggestion

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
