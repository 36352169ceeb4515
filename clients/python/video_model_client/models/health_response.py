from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.health_response_status import HealthResponseStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.health_response_jobs import HealthResponseJobs
    from ..models.health_response_runners import HealthResponseRunners


T = TypeVar("T", bound="HealthResponse")


@_attrs_define
class HealthResponse:
    """
    Attributes:
        status (HealthResponseStatus):
        models_loaded (list[str]):
        device (str):
        gpu_memory_allocated (None | str):
        gpu_memory_reserved (None | str):
        runners (HealthResponseRunners):
        jobs (HealthResponseJobs | Unset): the job queue: `queued`, and jobs per task and status (`by_task`)
    """

    status: HealthResponseStatus
    models_loaded: list[str]
    device: str
    gpu_memory_allocated: None | str
    gpu_memory_reserved: None | str
    runners: HealthResponseRunners
    jobs: HealthResponseJobs | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        models_loaded = self.models_loaded

        device = self.device

        gpu_memory_allocated: None | str
        gpu_memory_allocated = self.gpu_memory_allocated

        gpu_memory_reserved: None | str
        gpu_memory_reserved = self.gpu_memory_reserved

        runners = self.runners.to_dict()

        jobs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.jobs, Unset):
            jobs = self.jobs.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "models_loaded": models_loaded,
                "device": device,
                "gpu_memory_allocated": gpu_memory_allocated,
                "gpu_memory_reserved": gpu_memory_reserved,
                "runners": runners,
            }
        )
        if jobs is not UNSET:
            field_dict["jobs"] = jobs

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.health_response_jobs import HealthResponseJobs  # noqa: PLC0415
        from ..models.health_response_runners import HealthResponseRunners  # noqa: PLC0415

        d = dict(src_dict)
        status = HealthResponseStatus(d.pop("status"))

        models_loaded = cast(list[str], d.pop("models_loaded"))

        device = d.pop("device")

        def _parse_gpu_memory_allocated(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        gpu_memory_allocated = _parse_gpu_memory_allocated(d.pop("gpu_memory_allocated"))

        def _parse_gpu_memory_reserved(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        gpu_memory_reserved = _parse_gpu_memory_reserved(d.pop("gpu_memory_reserved"))

        runners = HealthResponseRunners.from_dict(d.pop("runners"))

        _jobs = d.pop("jobs", UNSET)
        jobs: HealthResponseJobs | Unset
        if isinstance(_jobs, Unset):
            jobs = UNSET
        else:
            jobs = HealthResponseJobs.from_dict(_jobs)

        health_response = cls(
            status=status,
            models_loaded=models_loaded,
            device=device,
            gpu_memory_allocated=gpu_memory_allocated,
            gpu_memory_reserved=gpu_memory_reserved,
            runners=runners,
            jobs=jobs,
        )

        health_response.additional_properties = d
        return health_response

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
