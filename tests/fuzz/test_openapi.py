"""Fuzzing every /v1 route from /openapi.json with valid tokens (schemathesis).

Bounded examples per operation, so it stays well under a minute. Every response must be
documented (status, content type, schema), never a 5xx, and every error is the envelope.
Path parameters point at a real, funded organisation, so the fuzzer gets past the 404.
"""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

EXAMPLES_PER_OPERATION = 15


def envelope_on_errors(ctx, response, case):
    """Every 4xx/5xx body is {"error": {"code", "message", "details"}}."""
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}, error
        assert isinstance(error["code"], str)
        assert error["code"]


def test_every_v1_route_answers_as_documented(app, caller, org, fake_stripe, portone):
    """Top-ups reach the local gateway fakes. Examples are derandomized so CI is
    repeatable; a new schema or route changes them."""
    caller.grant(org, 10**9)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(path_regex="^/v1/")
    operations = [result.ok() for result in schema.get_all_operations()]
    failures = {}

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case):
            if "org_id" in (case.path_parameters or {}):
                case.path_parameters["org_id"] = org.id
            owner_only = "/api-keys" in case.path
            headers = caller.user(org, "owner") if owner_only else caller.operator
            case.call_and_validate(
                headers=headers,
                additional_checks=[envelope_on_errors],
                # A schema-valid request may still be refused on its meaning (an opaque
                # cursor that is not ours, a reversal beyond its deduction): documented 4xx.
                excluded_checks=[positive_data_acceptance],
            )

        try:
            fuzz()
        except Exception as e:  # noqa: BLE001 - every operation's failure is reported
            failures[operation.label] = str(e)[:1500]

    assert len(operations) >= 12
    assert failures == {}
