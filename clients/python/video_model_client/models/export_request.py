from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.export_request_format import ExportRequestFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.detect_response import DetectResponse
    from ..models.export_video import ExportVideo
    from ..models.track_response import TrackResponse


T = TypeVar("T", bound="ExportRequest")


@_attrs_define
class ExportRequest:
    """
    Attributes:
        format_ (ExportRequestFormat): coco and cvat and labelstudio take both results; coco-video and mot take tracks
        result (DetectResponse | TrackResponse): a /api/detect or /api/track response, as answered
        video (ExportVideo | None | Unset): needed for a track result; a detect result carries its own (name: 'video')
    """

    format_: ExportRequestFormat
    result: DetectResponse | TrackResponse
    video: ExportVideo | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.detect_response import DetectResponse  # noqa: PLC0415
        from ..models.export_video import ExportVideo  # noqa: PLC0415

        format_ = self.format_.value

        result: dict[str, Any]
        if isinstance(self.result, DetectResponse):
            result = self.result.to_dict()
        else:
            result = self.result.to_dict()

        video: dict[str, Any] | None | Unset
        if isinstance(self.video, Unset):
            video = UNSET
        elif isinstance(self.video, ExportVideo):
            video = self.video.to_dict()
        else:
            video = self.video

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "format": format_,
                "result": result,
            }
        )
        if video is not UNSET:
            field_dict["video"] = video

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.detect_response import DetectResponse  # noqa: PLC0415
        from ..models.export_video import ExportVideo  # noqa: PLC0415
        from ..models.track_response import TrackResponse  # noqa: PLC0415

        d = dict(src_dict)
        format_ = ExportRequestFormat(d.pop("format"))

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

        def _parse_video(data: object) -> ExportVideo | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                video_type_0 = ExportVideo.from_dict(data)

                return video_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ExportVideo | None | Unset, data)

        video = _parse_video(d.pop("video", UNSET))

        export_request = cls(
            format_=format_,
            result=result,
            video=video,
        )

        export_request.additional_properties = d
        return export_request

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
