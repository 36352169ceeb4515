from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.track_request_interpolation import TrackRequestInterpolation
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.frame_range import FrameRange
    from ..models.initial_detection import InitialDetection


T = TypeVar("T", bound="TrackRequest")


@_attrs_define
class TrackRequest:
    """
    Attributes:
        frame_range (FrameRange):
        video_path (None | str | Unset): a file inside the media roots
        video_id (None | str | Unset): <root>/<video_id>.<ext> in the media roots
        model (None | str | Unset):
        initial_detections (list[InitialDetection] | None | Unset):
        auto_detect (bool | Unset):  Default: False.
        detection_model (str | Unset):  Default: 'yolo-world-v2'.
        classes (list[str] | None | Unset):
        text_prompt (None | str | Unset):
        confidence_threshold (float | Unset):  Default: 0.7.
        decimation (int | Unset): process every Nth frame Default: 1.
        interpolation (TrackRequestInterpolation | Unset):  Default: TrackRequestInterpolation.LINEAR.
        max_gap_frames (int | Unset):  Default: 10.
        include_masks (bool | Unset): true: a COCO RLE mask per box Default: False.
        redetect_interval (int | None | Unset):
    """

    frame_range: FrameRange
    video_path: None | str | Unset = UNSET
    video_id: None | str | Unset = UNSET
    model: None | str | Unset = UNSET
    initial_detections: list[InitialDetection] | None | Unset = UNSET
    auto_detect: bool | Unset = False
    detection_model: str | Unset = "yolo-world-v2"
    classes: list[str] | None | Unset = UNSET
    text_prompt: None | str | Unset = UNSET
    confidence_threshold: float | Unset = 0.7
    decimation: int | Unset = 1
    interpolation: TrackRequestInterpolation | Unset = TrackRequestInterpolation.LINEAR
    max_gap_frames: int | Unset = 10
    include_masks: bool | Unset = False
    redetect_interval: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frame_range = self.frame_range.to_dict()

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

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        initial_detections: list[dict[str, Any]] | None | Unset
        if isinstance(self.initial_detections, Unset):
            initial_detections = UNSET
        elif isinstance(self.initial_detections, list):
            initial_detections = []
            for initial_detections_type_0_item_data in self.initial_detections:
                initial_detections_type_0_item = initial_detections_type_0_item_data.to_dict()
                initial_detections.append(initial_detections_type_0_item)

        else:
            initial_detections = self.initial_detections

        auto_detect = self.auto_detect

        detection_model = self.detection_model

        classes: list[str] | None | Unset
        if isinstance(self.classes, Unset):
            classes = UNSET
        elif isinstance(self.classes, list):
            classes = self.classes

        else:
            classes = self.classes

        text_prompt: None | str | Unset
        if isinstance(self.text_prompt, Unset):
            text_prompt = UNSET
        else:
            text_prompt = self.text_prompt

        confidence_threshold = self.confidence_threshold

        decimation = self.decimation

        interpolation: str | Unset = UNSET
        if not isinstance(self.interpolation, Unset):
            interpolation = self.interpolation.value

        max_gap_frames = self.max_gap_frames

        include_masks = self.include_masks

        redetect_interval: int | None | Unset
        if isinstance(self.redetect_interval, Unset):
            redetect_interval = UNSET
        else:
            redetect_interval = self.redetect_interval

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frame_range": frame_range,
            }
        )
        if video_path is not UNSET:
            field_dict["video_path"] = video_path
        if video_id is not UNSET:
            field_dict["video_id"] = video_id
        if model is not UNSET:
            field_dict["model"] = model
        if initial_detections is not UNSET:
            field_dict["initial_detections"] = initial_detections
        if auto_detect is not UNSET:
            field_dict["auto_detect"] = auto_detect
        if detection_model is not UNSET:
            field_dict["detection_model"] = detection_model
        if classes is not UNSET:
            field_dict["classes"] = classes
        if text_prompt is not UNSET:
            field_dict["text_prompt"] = text_prompt
        if confidence_threshold is not UNSET:
            field_dict["confidence_threshold"] = confidence_threshold
        if decimation is not UNSET:
            field_dict["decimation"] = decimation
        if interpolation is not UNSET:
            field_dict["interpolation"] = interpolation
        if max_gap_frames is not UNSET:
            field_dict["max_gap_frames"] = max_gap_frames
        if include_masks is not UNSET:
            field_dict["include_masks"] = include_masks
        if redetect_interval is not UNSET:
            field_dict["redetect_interval"] = redetect_interval

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.frame_range import FrameRange  # noqa: PLC0415
        from ..models.initial_detection import InitialDetection  # noqa: PLC0415

        d = dict(src_dict)
        frame_range = FrameRange.from_dict(d.pop("frame_range"))

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

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        def _parse_initial_detections(data: object) -> list[InitialDetection] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                initial_detections_type_0 = []
                _initial_detections_type_0 = data
                for initial_detections_type_0_item_data in _initial_detections_type_0:
                    initial_detections_type_0_item = InitialDetection.from_dict(initial_detections_type_0_item_data)

                    initial_detections_type_0.append(initial_detections_type_0_item)

                return initial_detections_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[InitialDetection] | None | Unset, data)

        initial_detections = _parse_initial_detections(d.pop("initial_detections", UNSET))

        auto_detect = d.pop("auto_detect", UNSET)

        detection_model = d.pop("detection_model", UNSET)

        def _parse_classes(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                classes_type_0 = cast(list[str], data)

                return classes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        classes = _parse_classes(d.pop("classes", UNSET))

        def _parse_text_prompt(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        text_prompt = _parse_text_prompt(d.pop("text_prompt", UNSET))

        confidence_threshold = d.pop("confidence_threshold", UNSET)

        decimation = d.pop("decimation", UNSET)

        _interpolation = d.pop("interpolation", UNSET)
        interpolation: TrackRequestInterpolation | Unset
        if isinstance(_interpolation, Unset):
            interpolation = UNSET
        else:
            interpolation = TrackRequestInterpolation(_interpolation)

        max_gap_frames = d.pop("max_gap_frames", UNSET)

        include_masks = d.pop("include_masks", UNSET)

        def _parse_redetect_interval(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        redetect_interval = _parse_redetect_interval(d.pop("redetect_interval", UNSET))

        track_request = cls(
            frame_range=frame_range,
            video_path=video_path,
            video_id=video_id,
            model=model,
            initial_detections=initial_detections,
            auto_detect=auto_detect,
            detection_model=detection_model,
            classes=classes,
            text_prompt=text_prompt,
            confidence_threshold=confidence_threshold,
            decimation=decimation,
            interpolation=interpolation,
            max_gap_frames=max_gap_frames,
            include_masks=include_masks,
            redetect_interval=redetect_interval,
        )

        track_request.additional_properties = d
        return track_request

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
