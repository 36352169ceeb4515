from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.existing_ontology import ExistingOntology


T = TypeVar("T", bound="AugmentRequest")


@_attrs_define
class AugmentRequest:
    """
    Attributes:
        persona_name (str):
        existing_ontology (ExistingOntology):
        domain_context (None | str | Unset):
        task_description (None | str | Unset):
        model (None | str | Unset):
        max_suggestions_per_type (int | Unset):  Default: 10.
        temperature (float | Unset):  Default: 0.7.
        include_definitions (bool | Unset):  Default: True.
        include_examples (bool | Unset):  Default: True.
        max_new_tokens (int | None | Unset): the answer's token budget (default: the model's, else 4096)
    """

    persona_name: str
    existing_ontology: ExistingOntology
    domain_context: None | str | Unset = UNSET
    task_description: None | str | Unset = UNSET
    model: None | str | Unset = UNSET
    max_suggestions_per_type: int | Unset = 10
    temperature: float | Unset = 0.7
    include_definitions: bool | Unset = True
    include_examples: bool | Unset = True
    max_new_tokens: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        persona_name = self.persona_name

        existing_ontology = self.existing_ontology.to_dict()

        domain_context: None | str | Unset
        if isinstance(self.domain_context, Unset):
            domain_context = UNSET
        else:
            domain_context = self.domain_context

        task_description: None | str | Unset
        if isinstance(self.task_description, Unset):
            task_description = UNSET
        else:
            task_description = self.task_description

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        max_suggestions_per_type = self.max_suggestions_per_type

        temperature = self.temperature

        include_definitions = self.include_definitions

        include_examples = self.include_examples

        max_new_tokens: int | None | Unset
        if isinstance(self.max_new_tokens, Unset):
            max_new_tokens = UNSET
        else:
            max_new_tokens = self.max_new_tokens

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "persona_name": persona_name,
                "existing_ontology": existing_ontology,
            }
        )
        if domain_context is not UNSET:
            field_dict["domain_context"] = domain_context
        if task_description is not UNSET:
            field_dict["task_description"] = task_description
        if model is not UNSET:
            field_dict["model"] = model
        if max_suggestions_per_type is not UNSET:
            field_dict["max_suggestions_per_type"] = max_suggestions_per_type
        if temperature is not UNSET:
            field_dict["temperature"] = temperature
        if include_definitions is not UNSET:
            field_dict["include_definitions"] = include_definitions
        if include_examples is not UNSET:
            field_dict["include_examples"] = include_examples
        if max_new_tokens is not UNSET:
            field_dict["max_new_tokens"] = max_new_tokens

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.existing_ontology import ExistingOntology  # noqa: PLC0415

        d = dict(src_dict)
        persona_name = d.pop("persona_name")

        existing_ontology = ExistingOntology.from_dict(d.pop("existing_ontology"))

        def _parse_domain_context(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        domain_context = _parse_domain_context(d.pop("domain_context", UNSET))

        def _parse_task_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        task_description = _parse_task_description(d.pop("task_description", UNSET))

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        max_suggestions_per_type = d.pop("max_suggestions_per_type", UNSET)

        temperature = d.pop("temperature", UNSET)

        include_definitions = d.pop("include_definitions", UNSET)

        include_examples = d.pop("include_examples", UNSET)

        def _parse_max_new_tokens(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_new_tokens = _parse_max_new_tokens(d.pop("max_new_tokens", UNSET))

        augment_request = cls(
            persona_name=persona_name,
            existing_ontology=existing_ontology,
            domain_context=domain_context,
            task_description=task_description,
            model=model,
            max_suggestions_per_type=max_suggestions_per_type,
            temperature=temperature,
            include_definitions=include_definitions,
            include_examples=include_examples,
            max_new_tokens=max_new_tokens,
        )

        augment_request.additional_properties = d
        return augment_request

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
