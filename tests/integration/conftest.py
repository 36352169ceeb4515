"""A real `bentoml serve` of the demo configuration, started once for the integration tests."""

from __future__ import annotations

import httpx
import pytest

from scripts.local_server import start_service, stop_service


@pytest.fixture(scope="session")
def service(demo_config, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    process, url, _ = start_service(demo_config, log_path)
    yield {"url": url, "log": log_path}
    stop_service(process)


@pytest.fixture(scope="session")
def client(service):
    with httpx.Client(base_url=service["url"], timeout=600) as client:
        yield client
