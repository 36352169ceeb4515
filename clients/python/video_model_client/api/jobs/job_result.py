from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.job_result_format_type_0 import JobResultFormatType0
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    job_id: str,
    *,
    format_: JobResultFormatType0 | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: None | str | Unset
    if isinstance(format_, Unset):
        json_format_ = UNSET
    elif isinstance(format_, JobResultFormatType0):
        json_format_ = format_.value
    else:
        json_format_ = format_
    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/jobs/{job_id}/result".format(
            job_id=quote(str(job_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ErrorResponse | File | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 410:
        response_410 = ErrorResponse.from_dict(response.json())

        return response_410

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | File]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: JobResultFormatType0 | None | Unset = UNSET,
) -> Response[ErrorResponse | File]:
    """Job Result

     A succeeded job's result; 409 before it succeeded, 410 once removed after the retention period. With
    `format` (detect and track jobs), the file an annotation tool imports.

    Args:
        job_id (str):
        format_ (JobResultFormatType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | File]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: JobResultFormatType0 | None | Unset = UNSET,
) -> ErrorResponse | File | None:
    """Job Result

     A succeeded job's result; 409 before it succeeded, 410 once removed after the retention period. With
    `format` (detect and track jobs), the file an annotation tool imports.

    Args:
        job_id (str):
        format_ (JobResultFormatType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | File
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: JobResultFormatType0 | None | Unset = UNSET,
) -> Response[ErrorResponse | File]:
    """Job Result

     A succeeded job's result; 409 before it succeeded, 410 once removed after the retention period. With
    `format` (detect and track jobs), the file an annotation tool imports.

    Args:
        job_id (str):
        format_ (JobResultFormatType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | File]
    """

    kwargs = _get_kwargs(
        job_id=job_id,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: JobResultFormatType0 | None | Unset = UNSET,
) -> ErrorResponse | File | None:
    """Job Result

     A succeeded job's result; 409 before it succeeded, 410 once removed after the retention period. With
    `format` (detect and track jobs), the file an annotation tool imports.

    Args:
        job_id (str):
        format_ (JobResultFormatType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | File
    """

    return (
        await asyncio_detailed(
            job_id=job_id,
            client=client,
            format_=format_,
        )
    ).parsed
