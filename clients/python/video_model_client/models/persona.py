from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.persona_ontology_context_type_1 import PersonaOntologyContextType1


T = TypeVar("T", bound="Persona")


@_attrs_define
class Persona:
    """
    Attributes:
        role (None | str | Unset):
        information_need (None | str | Unset):
        description (None | str | Unset):
        ontology_context (list[Any] | None | PersonaOntologyContextType1 | str | Unset): the analyst's vocabulary
    """

    role: None | str | Unset = UNSET
    information_need: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    ontology_context: list[Any] | None | PersonaOntologyContextType1 | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.persona_ontology_context_type_1 import PersonaOntologyContextType1  # noqa: PLC0415

        role: None | str | Unset
        if isinstance(self.role, Unset):
            role = UNSET
        else:
            role = self.role

        information_need: None | str | Unset
        if isinstance(self.information_need, Unset):
            information_need = UNSET
        else:
            information_need = self.information_need

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        ontology_context: dict[str, Any] | list[Any] | None | str | Unset
        if isinstance(self.ontology_context, Unset):
            ontology_context = UNSET
        elif isinstance(self.ontology_context, PersonaOntologyContextType1):
            ontology_context = self.ontology_context.to_dict()
        elif isinstance(self.ontology_context, list):
            ontology_context = self.ontology_context

        else:
            ontology_context = self.ontology_context

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if role is not UNSET:
            field_dict["role"] = role
        if information_need is not UNSET:
            field_dict["information_need"] = information_need
        if description is not UNSET:
            field_dict["description"] = description
        if ontology_context is not UNSET:
            field_dict["ontology_context"] = ontology_context

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.persona_ontology_context_type_1 import PersonaOntologyContextType1  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_role(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        role = _parse_role(d.pop("role", UNSET))

        def _parse_information_need(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        information_need = _parse_information_need(d.pop("information_need", UNSET))

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_ontology_context(data: object) -> list[Any] | None | PersonaOntologyContextType1 | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                ontology_context_type_1 = PersonaOntologyContextType1.from_dict(data)

                return ontology_context_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, list):
                    raise TypeError()
                ontology_context_type_2 = cast(list[Any], data)

                return ontology_context_type_2
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Any] | None | PersonaOntologyContextType1 | str | Unset, data)

        ontology_context = _parse_ontology_context(d.pop("ontology_context", UNSET))

        persona = cls(
            role=role,
            information_need=information_need,
            description=description,
            ontology_context=ontology_context,
        )

        persona.additional_properties = d
        return persona

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
