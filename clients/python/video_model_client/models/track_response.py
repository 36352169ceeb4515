from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.track import Track


T = TypeVar("T", bound="TrackResponse")


@_attrs_define
class TrackResponse:
    """
    Attributes:
        tracks (list[Track]):
        total_tracks (int):
        frames_processed (int):
        model_used (str):
        inference_time_ms (int):
        decimated (bool):
        decimation_factor (int):
    """

    tracks: list[Track]
    total_tracks: int
    frames_processed: int
    model_used: str
    inference_time_ms: int
    decimated: bool
    decimation_factor: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tracks = []
        for tracks_item_data in self.tracks:
            tracks_item = tracks_item_data.to_dict()
            tracks.append(tracks_item)

        total_tracks = self.total_tracks

        frames_processed = self.frames_processed

        model_used = self.model_used

        inference_time_ms = self.inference_time_ms

        decimated = self.decimated

        decimation_factor = self.decimation_factor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "tracks": tracks,
                "total_tracks": total_tracks,
                "frames_processed": frames_processed,
                "model_used": model_used,
                "inference_time_ms": inference_time_ms,
                "decimated": decimated,
                "decimation_factor": decimation_factor,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.track import Track  # noqa: PLC0415

        d = dict(src_dict)
        tracks = []
        _tracks = d.pop("tracks")
        for tracks_item_data in _tracks:
            tracks_item = Track.from_dict(tracks_item_data)

            tracks.append(tracks_item)

        total_tracks = d.pop("total_tracks")

        frames_processed = d.pop("frames_processed")

        model_used = d.pop("model_used")

        inference_time_ms = d.pop("inference_time_ms")

        decimated = d.pop("decimated")

        decimation_factor = d.pop("decimation_factor")

        track_response = cls(
            tracks=tracks,
            total_tracks=total_tracks,
            frames_processed=frames_processed,
            model_used=model_used,
            inference_time_ms=inference_time_ms,
            decimated=decimated,
            decimation_factor=decimation_factor,
        )

        track_response.additional_properties = d
        return track_response

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
