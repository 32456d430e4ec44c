"""The scan-facing API: options from CLI switches, one call from candidates to results, stored results
round-trip and age out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanner.validate.api import (
    ValidationOptions,
    is_fresh,
    liveness_hundredths,
    open_runner,
    validate_candidates,
)
from scanner.validate.result import Candidate, Status, ValidationResult
from tests.providerserver import serving
from tests.validatekit import fixture_responder, rand


def test_validate_candidates_against_a_configured_endpoint() -> None:
    live, dead = f"ghp_{rand(36)}", f"ghp_{rand(36)}"
    active_reply = fixture_responder("github", "active")
    revoked_reply = fixture_responder("github", "revoked")
    with serving(lambda r: active_reply(r) if live in (r.header("Authorization") or "") else revoked_reply(r)) as srv:
        options = ValidationOptions(endpoints=(f"github={srv.url}",), allow_internal=True)
        results = validate_candidates([Candidate("github-pat-classic", "github", live),
                                       Candidate("github-pat-classic", "github", dead)], options)
    assert [r.status for r in results] == [Status.ACTIVE, Status.REVOKED]
    assert results[0].privilege is not None and results[0].privilege.value == "admin"
    assert ValidationResult.from_dict(results[0].to_dict()) == results[0]


def test_without_allow_internal_the_loopback_endpoint_gets_nothing() -> None:
    with serving(fixture_responder("github", "active")) as srv:
        results = validate_candidates([Candidate("github-pat-classic", "github", f"ghp_{rand(36)}")],
                                      ValidationOptions(endpoints=(f"github={srv.url}",)))
    assert results[0].status is Status.INDETERMINATE and "--allow-internal-endpoints" in results[0].reason
    assert srv.requests == []


def test_bad_options_are_value_errors() -> None:
    with pytest.raises(ValueError, match="PROVIDER=URL"):
        open_runner(ValidationOptions(endpoints=("github",)))
    with pytest.raises(ValueError, match="rps"):
        open_runner(ValidationOptions(rps=0))


def test_freshness() -> None:
    checked = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    result = ValidationResult("github", Status.ACTIVE, "ok", checked_at=checked)
    assert is_fresh(result, 3600, checked.timestamp() + 3599)
    assert not is_fresh(result, 3600, checked.timestamp() + 3601)


def test_liveness_multiplier_follows_design_section_8() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    past, future = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert liveness_hundredths(None, now) == 85
    assert liveness_hundredths(ValidationResult("x", Status.ACTIVE, "", expires_at=future), now) == 100
    assert liveness_hundredths(ValidationResult("x", Status.REVOKED, ""), now) == 35
    assert liveness_hundredths(ValidationResult("x", Status.INDETERMINATE, ""), now) == 85
    assert liveness_hundredths(ValidationResult("x", Status.UNSUPPORTED, "", expires_at=past), now) == 20
