"""The response network's OpenAPI surface, fuzzed by schemathesis through the ASGI app
(real PostgreSQL and Redis behind it), signed in as an admin so every handler runs: whatever
it sends, the API never answers 5xx and never shows a traceback."""

from __future__ import annotations

from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from integration.response_api.conftest import ResponseApi
from integration.response_api.world import build_world

EXAMPLES_PER_OPERATION = 40


def test_no_input_makes_the_api_fail(api: ResponseApi) -> None:
    build_world(api.container)
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", api.client.app)
    headers = api.as_admin
    tried: list[str] = []
    statuses: Counter[int] = Counter()
    for found in schema.get_all_operations():
        operation = found.ok()
        tried.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_fails(case: Any) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code] += 1
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query} {case.body!r:.300} -> "
                f"{response.status_code}: {response.text[:500]}"
            )
            assert "Traceback" not in response.text

        never_fails()
    assert len(tried) >= 30, tried
    # The fuzzing reached the handlers, not only the validation in front of them.
    assert statuses[200] + statuses[201] + statuses[204] > 100, statuses
