from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.render_request_format import RenderRequestFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.detect_response import DetectResponse
    from ..models.track_response import TrackResponse


T = TypeVar("T", bound="RenderRequest")


@_attrs_define
class RenderRequest:
    """
    Attributes:
        result (DetectResponse | TrackResponse): a /api/detect or /api/track response about this video
        video_path (None | str | Unset): a file inside the media roots
        video_id (None | str | Unset): <root>/<video_id>.<ext> in the media roots
        format_ (RenderRequestFormat | Unset): an H.264 MP4 of the frames, or a PNG contact sheet of some of them
            Default: RenderRequestFormat.MP4.
        frame_numbers (list[int] | None | Unset): the frames to show; default: the result's (an MP4 of all of them, a
            sheet of 16 spread over them)
        max_side (int | Unset): the longer side of a frame, in pixels, at most Default: 960.
    """

    result: DetectResponse | TrackResponse
    video_path: None | str | Unset = UNSET
    video_id: None | str | Unset = UNSET
    format_: RenderRequestFormat | Unset = RenderRequestFormat.MP4
    frame_numbers: list[int] | None | Unset = UNSET
    max_side: int | Unset = 960
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.detect_response import DetectResponse  # noqa: PLC0415

        result: dict[str, Any]
        if isinstance(self.result, DetectResponse):
            result = self.result.to_dict()
        else:
            result = self.result.to_dict()

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

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        frame_numbers: list[int] | None | Unset
        if isinstance(self.frame_numbers, Unset):
            frame_numbers = UNSET
        elif isinstance(self.frame_numbers, list):
            frame_numbers = self.frame_numbers

        else:
            frame_numbers = self.frame_numbers

        max_side = self.max_side

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "result": result,
            }
        )
        if video_path is not UNSET:
            field_dict["video_path"] = video_path
        if video_id is not UNSET:
            field_dict["video_id"] = video_id
        if format_ is not UNSET:
            field_dict["format"] = format_
        if frame_numbers is not UNSET:
            field_dict["frame_numbers"] = frame_numbers
        if max_side is not UNSET:
            field_dict["max_side"] = max_side

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.detect_response import DetectResponse  # noqa: PLC0415
        from ..models.track_response import TrackResponse  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_result(data: object) -> DetectResponse | TrackResponse:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = DetectResponse.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            result_type_1 = TrackResponse.from_dict(data)

            return result_type_1

        result = _parse_result(d.pop("result"))

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

        _format_ = d.pop("format", UNSET)
        format_: RenderRequestFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = RenderRequestFormat(_format_)

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

        max_side = d.pop("max_side", UNSET)

        render_request = cls(
            result=result,
            video_path=video_path,
            video_id=video_id,
            format_=format_,
            frame_numbers=frame_numbers,
            max_side=max_side,
        )

        render_request.additional_properties = d
        return render_request

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
