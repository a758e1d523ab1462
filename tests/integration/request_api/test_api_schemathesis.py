"""Schemathesis against the OpenAPI document: generated calls to every operation, valid and
invalid, signed in as an administrator; no 5xx, and every answer -- status, content type,
body -- is one the schema describes. Unauthenticated calls are checked to be refused."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_harness import Api, ShiftableClock, build_container
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from airgap.domain.model.users import ProfileType, Role
from airgap.entrypoints.http.request_network.app import create_app
from support.databases import fresh_database

EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


@pytest.fixture(scope="module")
def fuzzed(redis_server_url: str) -> Iterator[tuple[Api, dict[str, str]]]:
    clock = ShiftableClock()
    with fresh_database("request") as url:
        container, tasks = build_container(
            url, redis_server_url, Path(tempfile.mkdtemp(prefix="airgap-fuzz-")), clock
        )
        app = create_app(container)
        try:
            with TestClient(app) as client:
                api = Api(app, client, container, tasks, clock)
                admin = api.make_user("fuzz-admin", role=Role.ADMIN, profile=ProfileType.ADMIN)
                for _ in range(3):  # something to list
                    api.submit(api.headers(admin))
                yield api, api.headers(admin)
        finally:
            container.shutdown_resources()


@pytest.fixture(scope="module")
def api_schema(fuzzed: tuple[Api, dict[str, str]]) -> Any:
    return schemathesis.openapi.from_asgi("/schema/openapi.json", fuzzed[0].app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_to_the_schema(
    fuzzed: tuple[Api, dict[str, str]], api_schema: Any, mode: GenerationMode
) -> None:
    """One hypothesis run per operation (schemathesis' own pytest loader does not run on
    this pytest); every failure is collected and reported together."""
    _api, headers = fuzzed
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def conforms(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            conforms()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no parameters)
        except Exception as failure:
            failures.append(f"{operation.label}:\n{failure}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
