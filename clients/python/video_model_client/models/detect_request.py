from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.detect_request_class_thresholds_type_0 import DetectRequestClassThresholdsType0
    from ..models.frame_range import FrameRange


T = TypeVar("T", bound="DetectRequest")


@_attrs_define
class DetectRequest:
    """
    Attributes:
        video_path (None | str | Unset): a file inside the media roots
        video_id (None | str | Unset): <root>/<video_id>.<ext> in the media roots
        frame_numbers (list[int] | None | Unset): frames to detect on (0-based), answered in this order; or give
            frame_range (and stride)
        frame_range (FrameRange | None | Unset): instead of frame_numbers: every stride-th frame from start to end
            (inclusive); a synchronous request covers at most 1000 frames, a job the whole video
        stride (int | Unset): with frame_range: every stride-th frame Default: 1.
        model (None | str | Unset): detection model; default: the selected one
        classes (list[str] | None | Unset): detect exactly these labels
        text_prompt (None | str | Unset): zero-shot phrases: 'a. b.' or 'a, b'
        auto_detect (bool | Unset): use the model's default vocabulary (COCO's 80 names) Default: False.
        confidence_threshold (float | Unset):  Default: 0.5.
        nms_threshold (float | Unset):  Default: 0.45.
        class_thresholds (DetectRequestClassThresholdsType0 | None | Unset): per-label confidence thresholds
        batch_size (int | None | Unset): hint: frames sent to the runner per call
        max_detections (int | Unset): per frame Default: 300.
    """

    video_path: None | str | Unset = UNSET
    video_id: None | str | Unset = UNSET
    frame_numbers: list[int] | None | Unset = UNSET
    frame_range: FrameRange | None | Unset = UNSET
    stride: int | Unset = 1
    model: None | str | Unset = UNSET
    classes: list[str] | None | Unset = UNSET
    text_prompt: None | str | Unset = UNSET
    auto_detect: bool | Unset = False
    confidence_threshold: float | Unset = 0.5
    nms_threshold: float | Unset = 0.45
    class_thresholds: DetectRequestClassThresholdsType0 | None | Unset = UNSET
    batch_size: int | None | Unset = UNSET
    max_detections: int | Unset = 300
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.detect_request_class_thresholds_type_0 import DetectRequestClassThresholdsType0  # noqa: PLC0415
        from ..models.frame_range import FrameRange  # noqa: PLC0415

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

        frame_numbers: list[int] | None | Unset
        if isinstance(self.frame_numbers, Unset):
            frame_numbers = UNSET
        elif isinstance(self.frame_numbers, list):
            frame_numbers = self.frame_numbers

        else:
            frame_numbers = self.frame_numbers

        frame_range: dict[str, Any] | None | Unset
        if isinstance(self.frame_range, Unset):
            frame_range = UNSET
        elif isinstance(self.frame_range, FrameRange):
            frame_range = self.frame_range.to_dict()
        else:
            frame_range = self.frame_range

        stride = self.stride

        model: None | str | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

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

        auto_detect = self.auto_detect

        confidence_threshold = self.confidence_threshold

        nms_threshold = self.nms_threshold

        class_thresholds: dict[str, Any] | None | Unset
        if isinstance(self.class_thresholds, Unset):
            class_thresholds = UNSET
        elif isinstance(self.class_thresholds, DetectRequestClassThresholdsType0):
            class_thresholds = self.class_thresholds.to_dict()
        else:
            class_thresholds = self.class_thresholds

        batch_size: int | None | Unset
        if isinstance(self.batch_size, Unset):
            batch_size = UNSET
        else:
            batch_size = self.batch_size

        max_detections = self.max_detections

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if video_path is not UNSET:
            field_dict["video_path"] = video_path
        if video_id is not UNSET:
            field_dict["video_id"] = video_id
        if frame_numbers is not UNSET:
            field_dict["frame_numbers"] = frame_numbers
        if frame_range is not UNSET:
            field_dict["frame_range"] = frame_range
        if stride is not UNSET:
            field_dict["stride"] = stride
        if model is not UNSET:
            field_dict["model"] = model
        if classes is not UNSET:
            field_dict["classes"] = classes
        if text_prompt is not UNSET:
            field_dict["text_prompt"] = text_prompt
        if auto_detect is not UNSET:
            field_dict["auto_detect"] = auto_detect
        if confidence_threshold is not UNSET:
            field_dict["confidence_threshold"] = confidence_threshold
        if nms_threshold is not UNSET:
            field_dict["nms_threshold"] = nms_threshold
        if class_thresholds is not UNSET:
            field_dict["class_thresholds"] = class_thresholds
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if max_detections is not UNSET:
            field_dict["max_detections"] = max_detections

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.detect_request_class_thresholds_type_0 import DetectRequestClassThresholdsType0  # noqa: PLC0415
        from ..models.frame_range import FrameRange  # noqa: PLC0415

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

        def _parse_frame_numbers(data: object) -> list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                frame_numbers_type_0 = cast(list[int], data)

                return frame_numbers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None | Unset, data)

        frame_numbers = _parse_frame_numbers(d.pop("frame_numbers", UNSET))

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

        stride = d.pop("stride", UNSET)

        def _parse_model(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

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

        auto_detect = d.pop("auto_detect", UNSET)

        confidence_threshold = d.pop("confidence_threshold", UNSET)

        nms_threshold = d.pop("nms_threshold", UNSET)

        def _parse_class_thresholds(data: object) -> DetectRequestClassThresholdsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                class_thresholds_type_0 = DetectRequestClassThresholdsType0.from_dict(data)

                return class_thresholds_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DetectRequestClassThresholdsType0 | None | Unset, data)

        class_thresholds = _parse_class_thresholds(d.pop("class_thresholds", UNSET))

        def _parse_batch_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batch_size = _parse_batch_size(d.pop("batch_size", UNSET))

        max_detections = d.pop("max_detections", UNSET)

        detect_request = cls(
            video_path=video_path,
            video_id=video_id,
            frame_numbers=frame_numbers,
            frame_range=frame_range,
            stride=stride,
            model=model,
            classes=classes,
            text_prompt=text_prompt,
            auto_detect=auto_detect,
            confidence_threshold=confidence_threshold,
            nms_threshold=nms_threshold,
            class_thresholds=class_thresholds,
            batch_size=batch_size,
            max_detections=max_detections,
        )

        detect_request.additional_properties = d
        return detect_request

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
