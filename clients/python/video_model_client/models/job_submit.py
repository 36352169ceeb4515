from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_submit_task import JobSubmitTask

if TYPE_CHECKING:
    from ..models.job_submit_request import JobSubmitRequest


T = TypeVar("T", bound="JobSubmit")


@_attrs_define
class JobSubmit:
    """
    Attributes:
        task (JobSubmitTask): which route's work: detect, track, summarize or augment
        request (JobSubmitRequest): the task's request body, exactly as its synchronous route takes it
    """

    task: JobSubmitTask
    request: JobSubmitRequest
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task = self.task.value

        request = self.request.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "task": task,
                "request": request,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_submit_request import JobSubmitRequest  # noqa: PLC0415

        d = dict(src_dict)
        task = JobSubmitTask(d.pop("task"))

        request = JobSubmitRequest.from_dict(d.pop("request"))

        job_submit = cls(
            task=task,
            request=request,
        )

        job_submit.additional_properties = d
        return job_submit

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
