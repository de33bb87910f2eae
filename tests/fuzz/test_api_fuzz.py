"""A bounded fuzz run of the app from its own OpenAPI schema (``/schema/openapi.json``).

Schemathesis generates requests for every operation, signed in as the admin of the demo
organisation that enables every module and holds real persons, cases and module records; half
the time an id in the address is one of an existing row, so requests reach records, not only the
doors. Two runs:

- the JSON API (``/api/``), with a bearer token: positive requests must get a non-5xx answer that
  conforms to the schema (status code, content type, body); negative ones (breaking the schema on
  purpose) a 4xx; every 4xx is JSON with a ``detail``;
- every page a browser reads (``GET``), with the admin's session: never a 5xx. (Forms are posted
  by tests/fuzz/test_form_fuzz.py, with values the schema cannot describe.)

After the runs no record is half-written. Bounded and reproducible: ``max_examples`` per operation
and mode, ``derandomize`` (the same examples on every run), no deadline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import select
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from core.models import CaseGoal, GoalArea, GoalState
from tests.fuzz.conftest import FuzzTarget, half_written

EXAMPLES = 15
"""Generated requests per operation and mode (positive, negative)."""
PAGE_EXAMPLES = 5
"""Generated addresses per page (there are about 130 pages)."""
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
#: pages that sign out, switch the organisation or language: they would leave the rest of the run
#: signed out; (schema and static pages are Litestar's own)
SKIPPED_PAGES = r"^/(api/|schema|login|logout|language|organisation|static)"


def _load(target: FuzzTarget, real_ids: dict[str, list[int]]) -> schemathesis.BaseSchema:
    """The app's schema; an id in the address is half the time one of an existing row."""
    loaded = schemathesis.openapi.from_asgi("/schema/openapi.json", target.app)
    with target.app.state.session_factory() as session:
        goals_of_cases = [tuple(row) for row in session.execute(select(CaseGoal.case_id, CaseGoal.id).order_by(CaseGoal.id).limit(25))]

    @loaded.hook
    def flatmap_path_parameters(context, path_parameters):  # noqa: ANN001, ANN202
        names = [n for n in path_parameters or {} if real_ids.get(n)]
        if not names:
            return st.just(path_parameters)
        choice = st.fixed_dictionaries({n: st.sampled_from(real_ids[n]) for n in names})
        if {"case_id", "goal_id"} <= set(names):  # a goal of that very case
            choice = st.sampled_from(goals_of_cases).map(lambda pair: dict(zip(("case_id", "goal_id"), pair)))
        return st.one_of(st.just(path_parameters), choice.map(lambda ids: {**path_parameters, **ids}))

    # A field whose valid values the schema cannot list (event kinds come from the modules; a
    # goal's area and state are checked by the service) gets one of them half the time, so the
    # run gets past the first check and into the write.
    choices = {
        "kind": sorted(k for k, kind in target.registry.event_kinds.items() if kind.manual),
        "area": [a.value for a in GoalArea],
        "state": [s.value for s in GoalState],
    }

    @loaded.hook
    def flatmap_body(context, body):  # noqa: ANN001, ANN202
        names = [n for n in choices if isinstance(body, dict) and n in body]
        if not names:
            return st.just(body)
        choice = st.fixed_dictionaries({n: st.sampled_from(choices[n]) for n in names})
        return st.one_of(st.just(body), choice.map(lambda values: {**body, **values}))

    return loaded


def error_has_detail(ctx: CheckContext, response, case) -> bool | None:  # noqa: ANN001
    """Every refusal of the API is JSON with a ``detail`` a client can show."""
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
        body = response.json()
        assert isinstance(body, dict) and body.get("detail"), body
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, error_has_detail]
NEGATIVE_CHECKS = [not_a_server_error, error_has_detail]
"""Requests that break the schema on purpose: refused with a 4xx and a ``detail``, never a 500
(what the schema says of responses does not apply: the request is not one it describes)."""


def _fuzz_each(operations, modes, call: Callable, examples: int = EXAMPLES) -> list[str]:  # noqa: ANN001
    """Run ``call(case, mode)`` over a bounded set of cases of every operation in every mode;
    every operation runs even when one fails, and the failures (each with the request that
    reproduces it) come back together."""
    failures: list[str] = []
    for operation in operations:
        for mode in modes:

            @settings(FUZZ, max_examples=examples)
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case) -> None:  # noqa: ANN001
                call(case, mode)

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported after every operation ran
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


def test_the_api_answers_every_generated_request_without_a_server_error(
    fuzz_target: FuzzTarget, real_ids: dict[str, list[int]], admin_token: str, admin_browser: TestClient
) -> None:
    """(``admin_browser`` signs in first: the generated wrong passwords of ``POST /api/tokens``
    then throttle sign-ins from the test client's address, as they should.)"""
    operations = [r.ok() for r in _load(fuzz_target, real_ids).include(path_regex=r"^/api/").get_all_operations()]
    assert len(operations) >= 13, [op.label for op in operations]
    headers = {"Authorization": f"Bearer {admin_token}"}
    answered: dict[str, Counter[int]] = {}

    def call(case, mode: GenerationMode) -> None:  # noqa: ANN001
        response = case.call_and_validate(headers=headers, checks=CHECKS if mode == GenerationMode.POSITIVE else NEGATIVE_CHECKS)
        answered.setdefault(case.operation.label, Counter())[response.status_code] += 1

    failures = _fuzz_each(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE), call)
    assert not failures, "\n\n".join(failures)
    # The run reached the records: every operation but the token's (random credentials) answered
    # some requests with success.
    unreached = [op for op, codes in answered.items() if not codes[200] + codes[201] and op != "POST /api/tokens"]
    assert not unreached, answered


def test_every_page_answers_generated_addresses_without_a_server_error(
    fuzz_target: FuzzTarget, real_ids: dict[str, list[int]], admin_browser: TestClient
) -> None:
    schema = _load(fuzz_target, real_ids).include(method="GET").exclude(path_regex=SKIPPED_PAGES)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 100, len(operations)
    cookies = dict(admin_browser.cookies)
    answered: Counter[int] = Counter()

    def call(case, mode: GenerationMode) -> None:  # noqa: ANN001
        response = case.call(cookies=cookies, allow_redirects=False)
        case.validate_response(response, checks=[not_a_server_error])
        answered[response.status_code] += 1

    failures = _fuzz_each(operations, (GenerationMode.POSITIVE,), call, PAGE_EXAMPLES)
    assert not failures, "\n\n".join(failures)
    assert answered[200] > len(operations), answered  # signed in throughout: pages were shown


def test_after_the_fuzz_no_record_is_half_written(fuzz_target: FuzzTarget, fuzz_session) -> None:  # noqa: ANN001
    """Runs after the fuzz runs above (same module, same database): whatever they wrote is whole."""
    assert half_written(fuzz_session, fuzz_target) == []
