from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.summarize_request_complexity_metric import SummarizeRequestComplexityMetric
from ..models.summarize_request_sampling_strategy import SummarizeRequestSamplingStrategy
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.frame_range import FrameRange
    from ..models.persona import Persona


T = TypeVar("T", bound="SummarizeRequest")


@_attrs_define
class SummarizeRequest:
    """
    Attributes:
        video_path (None | str | Unset): a file inside the media roots
        video_id (None | str | Unset): <root>/<video_id>.<ext> in the media roots
        persona_context (None | str | Unset):
        persona (None | Persona | Unset):
        persona_id (None | str | Unset): echoed back
        frame_count (int | Unset):  Default: 8.
        sampling_strategy (SummarizeRequestSamplingStrategy | Unset):  Default:
            SummarizeRequestSamplingStrategy.UNIFORM.
        scene_threshold (float | Unset):  Default: 30.0.
        complexity_metric (SummarizeRequestComplexityMetric | Unset):  Default:
            SummarizeRequestComplexityMetric.GRADIENT.
        frame_range (FrameRange | None | Unset):
        model (None | str | Unset):
        max_new_tokens (int | None | Unset):
        temperature (float | None | Unset):
    """

    video_path: None | str | Unset = UNSET
    video_id: None | str | Unset = UNSET
    persona_context: None | str | Unset = UNSET
    persona: None | Persona | Unset = UNSET
    persona_id: None | str | Unset = UNSET
    frame_count: int | Unset = 8
    sampling_strategy: SummarizeRequestSamplingStrategy | Unset = SummarizeRequestSamplingStrategy.UNIFORM
    scene_threshold: float | Unset = 30.0
    complexity_metric: SummarizeRequestComplexityMetric | Unset = SummarizeRequestComplexityMetric.GRADIENT
    frame_range: FrameRange | None | Unset = UNSET
    model: None | str | Unset = UNSET
    max_new_tokens: int | None | Unset = UNSET
    temperature: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.frame_range import FrameRange  # noqa: PLC0415
        from ..models.persona import Persona  # noqa: PLC0415

        video_path: None | str | Unset
        if isinstance(self.video_path, Unset):
            video_path = UNSET
        else:
            video_path = self.video_path

        video_id: None | str | Unset
        if isinstance(self.video_id, Unset):
            video_id = UNSET
        else:
            video_id = self.video_id

        persona_context: None | str | Unset
        if isinstance(self.persona_context, Unset):
            persona_context = UNSET
        else:
            persona_context = self.persona_context

        persona: dict[str, Any] | None | Unset
        if isinstance(self.persona, Unset):
            persona = UNSET
        elif isinstance(self.persona, Persona):
            persona = self.persona.to_dict()
        else:
            persona = self.persona

        persona_id: None | str | Unset
        if isinstance(self.persona_id, Unset):
            persona_id = UNSET
        else:
            persona_id = self.persona_id

        frame_count = self.frame_count

        sampling_strategy: str | Unset = UNSET
        if not isinstance(self.sampling_strategy, Unset):
            sampling_strategy = self.sampling_strategy.value

        scene_threshold = self.scene_threshold

        complexity_metric: str | Unset = UNSET
        if not isinstance(self.complexity_metric, Unset):
            complexity_metric = self.complexity_metric.value

        frame_range: dict[str, Any] | None | Unset
        if isinstance(self.frame_range, Unset):
            frame_range = UNSET
        elif isinstance(self.frame_range, FrameRange):
            frame_range = self.frame_range.to_dict()
        else:
            frame_range = self.frame_range

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        max_new_tokens: int | None | Unset
        if isinstance(self.max_new_tokens, Unset):
            max_new_tokens = UNSET
        else:
            max_new_tokens = self.max_new_tokens

        temperature: float | None | Unset
        if isinstance(self.temperature, Unset):
            temperature = UNSET
        else:
            temperature = self.temperature

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if video_path is not UNSET:
            field_dict["video_path"] = video_path
        if video_id is not UNSET:
            field_dict["video_id"] = video_id
        if persona_context is not UNSET:
            field_dict["persona_context"] = persona_context
        if persona is not UNSET:
            field_dict["persona"] = persona
        if persona_id is not UNSET:
            field_dict["persona_id"] = persona_id
        if frame_count is not UNSET:
            field_dict["frame_count"] = frame_count
        if sampling_strategy is not UNSET:
            field_dict["sampling_strategy"] = sampling_strategy
        if scene_threshold is not UNSET:
            field_dict["scene_threshold"] = scene_threshold
        if complexity_metric is not UNSET:
            field_dict["complexity_metric"] = complexity_metric
        if frame_range is not UNSET:
            field_dict["frame_range"] = frame_range
        if model is not UNSET:
            field_dict["model"] = model
        if max_new_tokens is not UNSET:
            field_dict["max_new_tokens"] = max_new_tokens
        if temperature is not UNSET:
            field_dict["temperature"] = temperature

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.frame_range import FrameRange  # noqa: PLC0415
        from ..models.persona import Persona  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_video_path(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        video_path = _parse_video_path(d.pop("video_path", UNSET))

        def _parse_video_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        video_id = _parse_video_id(d.pop("video_id", UNSET))

        def _parse_persona_context(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        persona_context = _parse_persona_context(d.pop("persona_context", UNSET))

        def _parse_persona(data: object) -> None | Persona | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                persona_type_0 = Persona.from_dict(data)

                return persona_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Persona | Unset, data)

        persona = _parse_persona(d.pop("persona", UNSET))

        def _parse_persona_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        persona_id = _parse_persona_id(d.pop("persona_id", UNSET))

        frame_count = d.pop("frame_count", UNSET)

        _sampling_strategy = d.pop("sampling_strategy", UNSET)
        sampling_strategy: SummarizeRequestSamplingStrategy | Unset
        if isinstance(_sampling_strategy, Unset):
            sampling_strategy = UNSET
        else:
            sampling_strategy = SummarizeRequestSamplingStrategy(_sampling_strategy)

        scene_threshold = d.pop("scene_threshold", UNSET)

        _complexity_metric = d.pop("complexity_metric", UNSET)
        complexity_metric: SummarizeRequestComplexityMetric | Unset
        if isinstance(_complexity_metric, Unset):
            complexity_metric = UNSET
        else:
            complexity_metric = SummarizeRequestComplexityMetric(_complexity_metric)

        def _parse_frame_range(data: object) -> FrameRange | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                frame_range_type_0 = FrameRange.from_dict(data)

                return frame_range_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FrameRange | None | Unset, data)

        frame_range = _parse_frame_range(d.pop("frame_range", UNSET))

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        def _parse_max_new_tokens(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_new_tokens = _parse_max_new_tokens(d.pop("max_new_tokens", UNSET))

        def _parse_temperature(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        temperature = _parse_temperature(d.pop("temperature", UNSET))

        summarize_request = cls(
            video_path=video_path,
            video_id=video_id,
            persona_context=persona_context,
            persona=persona,
            persona_id=persona_id,
            frame_count=frame_count,
            sampling_strategy=sampling_strategy,
            scene_threshold=scene_threshold,
            complexity_metric=complexity_metric,
            frame_range=frame_range,
            model=model,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
        )

        summarize_request.additional_properties = d
        return summarize_request

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
