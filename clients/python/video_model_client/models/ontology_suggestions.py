from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.relationship_suggestion import RelationshipSuggestion
    from ..models.role_suggestion import RoleSuggestion
    from ..models.type_suggestion import TypeSuggestion


T = TypeVar("T", bound="OntologySuggestions")


@_attrs_define
class OntologySuggestions:
    """
    Attributes:
        entity_types (list[TypeSuggestion] | Unset):
        event_types (list[TypeSuggestion] | Unset):
        roles (list[RoleSuggestion] | Unset):
        relationships (list[RelationshipSuggestion] | Unset):
    """

    entity_types: list[TypeSuggestion] | Unset = UNSET
    event_types: list[TypeSuggestion] | Unset = UNSET
    roles: list[RoleSuggestion] | Unset = UNSET
    relationships: list[RelationshipSuggestion] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entity_types: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.entity_types, Unset):
            entity_types = []
            for entity_types_item_data in self.entity_types:
                entity_types_item = entity_types_item_data.to_dict()
                entity_types.append(entity_types_item)

        event_types: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.event_types, Unset):
            event_types = []
            for event_types_item_data in self.event_types:
                event_types_item = event_types_item_data.to_dict()
                event_types.append(event_types_item)

        roles: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.roles, Unset):
            roles = []
            for roles_item_data in self.roles:
                roles_item = roles_item_data.to_dict()
                roles.append(roles_item)

        relationships: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.relationships, Unset):
            relationships = []
            for relationships_item_data in self.relationships:
                relationships_item = relationships_item_data.to_dict()
                relationships.append(relationships_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if entity_types is not UNSET:
            field_dict["entity_types"] = entity_types
        if event_types is not UNSET:
            field_dict["event_types"] = event_types
        if roles is not UNSET:
            field_dict["roles"] = roles
        if relationships is not UNSET:
            field_dict["relationships"] = relationships

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.relationship_suggestion import RelationshipSuggestion  # noqa: PLC0415
        from ..models.role_suggestion import RoleSuggestion  # noqa: PLC0415
        from ..models.type_suggestion import TypeSuggestion  # noqa: PLC0415

        d = dict(src_dict)
        _entity_types = d.pop("entity_types", UNSET)
        entity_types: list[TypeSuggestion] | Unset = UNSET
        if _entity_types is not UNSET:
            entity_types = []
            for entity_types_item_data in _entity_types:
                entity_types_item = TypeSuggestion.from_dict(entity_types_item_data)

                entity_types.append(entity_types_item)

        _event_types = d.pop("event_types", UNSET)
        event_types: list[TypeSuggestion] | Unset = UNSET
        if _event_types is not UNSET:
            event_types = []
            for event_types_item_data in _event_types:
                event_types_item = TypeSuggestion.from_dict(event_types_item_data)

                event_types.append(event_types_item)

        _roles = d.pop("roles", UNSET)
        roles: list[RoleSuggestion] | Unset = UNSET
        if _roles is not UNSET:
            roles = []
            for roles_item_data in _roles:
                roles_item = RoleSuggestion.from_dict(roles_item_data)

                roles.append(roles_item)

        _relationships = d.pop("relationships", UNSET)
        relationships: list[RelationshipSuggestion] | Unset = UNSET
        if _relationships is not UNSET:
            relationships = []
            for relationships_item_data in _relationships:
                relationships_item = RelationshipSuggestion.from_dict(relationships_item_data)

                relationships.append(relationships_item)

        ontology_suggestions = cls(
            entity_types=entity_types,
            event_types=event_types,
            roles=roles,
            relationships=relationships,
        )

        ontology_suggestions.additional_properties = d
        return ontology_suggestions

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
