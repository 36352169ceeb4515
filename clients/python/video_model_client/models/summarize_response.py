from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.key_frame import KeyFrame


T = TypeVar("T", bound="SummarizeResponse")


@_attrs_define
class SummarizeResponse:
    """
    Attributes:
        id (str):
        video_id (None | str):
        persona_id (None | str):
        summary (str):
        visual_analysis (None | str):
        key_frames (list[KeyFrame]):
        visual_model_used (str):
        engine (str):
        processing_time_visual (float):
        sampled_frames (list[int]):
        sampling_strategy (str):
        persona_applied (bool):
        tokens_generated (int | None):
        confidence (float | None | Unset):
    """

    id: str
    video_id: None | str
    persona_id: None | str
    summary: str
    visual_analysis: None | str
    key_frames: list[KeyFrame]
    visual_model_used: str
    engine: str
    processing_time_visual: float
    sampled_frames: list[int]
    sampling_strategy: str
    persona_applied: bool
    tokens_generated: int | None
    confidence: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        video_id: None | str
        video_id = self.video_id

        persona_id: None | str
        persona_id = self.persona_id

        summary = self.summary

        visual_analysis: None | str
        visual_analysis = self.visual_analysis

        key_frames = []
        for key_frames_item_data in self.key_frames:
            key_frames_item = key_frames_item_data.to_dict()
            key_frames.append(key_frames_item)

        visual_model_used = self.visual_model_used

        engine = self.engine

        processing_time_visual = self.processing_time_visual

        sampled_frames = self.sampled_frames

        sampling_strategy = self.sampling_strategy

        persona_applied = self.persona_applied

        tokens_generated: int | None
        tokens_generated = self.tokens_generated

        confidence: float | None | Unset
        if isinstance(self.confidence, Unset):
            confidence = UNSET
        else:
            confidence = self.confidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "video_id": video_id,
                "persona_id": persona_id,
                "summary": summary,
                "visual_analysis": visual_analysis,
                "key_frames": key_frames,
                "visual_model_used": visual_model_used,
                "engine": engine,
                "processing_time_visual": processing_time_visual,
                "sampled_frames": sampled_frames,
                "sampling_strategy": sampling_strategy,
                "persona_applied": persona_applied,
                "tokens_generated": tokens_generated,
            }
        )
        if confidence is not UNSET:
            field_dict["confidence"] = confidence

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.key_frame import KeyFrame  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        def _parse_video_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        video_id = _parse_video_id(d.pop("video_id"))

        def _parse_persona_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        persona_id = _parse_persona_id(d.pop("persona_id"))

        summary = d.pop("summary")

        def _parse_visual_analysis(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        visual_analysis = _parse_visual_analysis(d.pop("visual_analysis"))

        key_frames = []
        _key_frames = d.pop("key_frames")
        for key_frames_item_data in _key_frames:
            key_frames_item = KeyFrame.from_dict(key_frames_item_data)

            key_frames.append(key_frames_item)

        visual_model_used = d.pop("visual_model_used")

        engine = d.pop("engine")

        processing_time_visual = d.pop("processing_time_visual")

        sampled_frames = cast(list[int], d.pop("sampled_frames"))

        sampling_strategy = d.pop("sampling_strategy")

        persona_applied = d.pop("persona_applied")

        def _parse_tokens_generated(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        tokens_generated = _parse_tokens_generated(d.pop("tokens_generated"))

        def _parse_confidence(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        confidence = _parse_confidence(d.pop("confidence", UNSET))

        summarize_response = cls(
            id=id,
            video_id=video_id,
            persona_id=persona_id,
            summary=summary,
            visual_analysis=visual_analysis,
            key_frames=key_frames,
            visual_model_used=visual_model_used,
            engine=engine,
            processing_time_visual=processing_time_visual,
            sampled_frames=sampled_frames,
            sampling_strategy=sampling_strategy,
            persona_applied=persona_applied,
            tokens_generated=tokens_generated,
            confidence=confidence,
        )

        summarize_response.additional_properties = d
        return summarize_response

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
