"""Every domain error has an explicit status and code in Apiframe v1 (httpx-style completeness)."""

from __future__ import annotations

import json

import pytest

from selfjourney.dialects.apiframe_v1.errors import STATUS, error_response
from selfjourney.domain import errors


def _all_errors(cls: type[errors.SelfjourneyError]) -> list[type[errors.SelfjourneyError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _all_errors(sub)
    return found


ALL = _all_errors(errors.SelfjourneyError)


@pytest.mark.parametrize("error", ALL, ids=lambda e: e.__name__)
def test_every_error_is_mapped_in_apiframe_v1(error):
    assert error in STATUS
    status, code = STATUS[error]
    assert 400 <= status < 600 and code.isupper()


def test_the_sdk_sees_401_for_every_auth_error():
    """The SDK raises AuthenticationError only on 401, so a revoked key answers 401 too."""
    auth = [e for e in ALL if issubclass(e, errors.AuthError)]
    assert {STATUS[e] for e in auth} == {(401, "AUTHENTICATION_ERROR")}


@pytest.mark.parametrize(
    "exc",
    [
        errors.InvalidInput("prompt is empty", "prompt"),
        errors.NotFound("abc"),
        errors.InsufficientCredits(16, 3),
        errors.Unsupported("no upscale engine", "upscale-alt"),
        errors.InvalidTransition("abc", "COMPLETED", "QUEUED"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_envelope_has_errors_message_and_code(exc):
    response = error_response(exc)
    body = json.loads(bytes(response.body))
    assert response.status_code == STATUS[type(exc)][0]
    assert body["code"] == STATUS[type(exc)][1]
    assert body["errors"][0]["msg"] and body["message"]
