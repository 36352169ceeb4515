from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ontology_suggestions import OntologySuggestions
    from ..models.post_validation import PostValidation


T = TypeVar("T", bound="AugmentResponse")


@_attrs_define
class AugmentResponse:
    """
    Attributes:
        suggestions (OntologySuggestions):
        model_used (str):
        engine (str):
        inference_time_ms (int):
        tokens_generated (int | None):
        total_suggestions (int):
        post_validation (PostValidation | Unset): What was done to the model's suggestions before they were returned.
    """

    suggestions: OntologySuggestions
    model_used: str
    engine: str
    inference_time_ms: int
    tokens_generated: int | None
    total_suggestions: int
    post_validation: PostValidation | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        suggestions = self.suggestions.to_dict()

        model_used = self.model_used

        engine = self.engine

        inference_time_ms = self.inference_time_ms

        tokens_generated: int | None
        tokens_generated = self.tokens_generated

        total_suggestions = self.total_suggestions

        post_validation: dict[str, Any] | Unset = UNSET
        if not isinstance(self.post_validation, Unset):
            post_validation = self.post_validation.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "suggestions": suggestions,
                "model_used": model_used,
                "engine": engine,
                "inference_time_ms": inference_time_ms,
                "tokens_generated": tokens_generated,
                "total_suggestions": total_suggestions,
            }
        )
        if post_validation is not UNSET:
            field_dict["post_validation"] = post_validation

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ontology_suggestions import OntologySuggestions  # noqa: PLC0415
        from ..models.post_validation import PostValidation  # noqa: PLC0415

        d = dict(src_dict)
        suggestions = OntologySuggestions.from_dict(d.pop("suggestions"))

        model_used = d.pop("model_used")

        engine = d.pop("engine")

        inference_time_ms = d.pop("inference_time_ms")

        def _parse_tokens_generated(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        tokens_generated = _parse_tokens_generated(d.pop("tokens_generated"))

        total_suggestions = d.pop("total_suggestions")

        _post_validation = d.pop("post_validation", UNSET)
        post_validation: PostValidation | Unset
        if isinstance(_post_validation, Unset):
            post_validation = UNSET
        else:
            post_validation = PostValidation.from_dict(_post_validation)

        augment_response = cls(
            suggestions=suggestions,
            model_used=model_used,
            engine=engine,
            inference_time_ms=inference_time_ms,
            tokens_generated=tokens_generated,
            total_suggestions=total_suggestions,
            post_validation=post_validation,
        )

        augment_response.additional_properties = d
        return augment_response

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
