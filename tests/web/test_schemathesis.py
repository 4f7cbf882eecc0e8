"""Schemathesis against the web API's own OpenAPI schema: no server errors (5xx) and every
response matches the schema, for generated requests (seeded, bounded)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from deepfit.web.app import create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_never_fails(case: schemathesis.Case) -> None:  # type: ignore[name-defined]
    response = case.call()
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
