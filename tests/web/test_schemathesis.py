"""Schemathesis against the web API's own OpenAPI schema with every check it has: no server
errors (5xx), documented status codes and content types, responses that match the schema,
for generated requests (seeded, bounded; benchmarks or a longer run go wider)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from deepfit.web.app import Settings, create_app  # noqa: E402
from deepfit.web.guard import LOOPBACK  # noqa: E402

# Schemathesis talks to the app as the host "testserver".
APP = create_app(Settings(hosts=(*LOOPBACK, "testserver")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
schemathesis.checks.load_all_checks()
# Names (models, GPUs, formats) and pasted configs are checked against the catalogue and the
# config rules, which no JSON schema can express: a well-formed request naming a model that
# does not exist is answered 400 {"error", "hint"}, as the schema documents.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    *schema.config.checks.positive_data_acceptance.expected_statuses,
    "400",
]
CHECKS = list(schemathesis.checks.CHECKS.get_all())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case) -> None:  # type: ignore[name-defined]
    case.call_and_validate(checks=CHECKS)
