"""Defect 1: ``GET /v2/jobs?cursor=`` with a forged cursor.

A cursor is ``base64url(json({"createdAt": <aware UTC ISO time>, "id": <job UUID>}))`` without
padding (``store/jobs.py`` ``encode_cursor``). Any other value is malformed or impossible and
must be a 400 in the v2 envelope, ``{"error": "Validation error", "details": {"cursor": [...]}}``,
on SQLite and on PostgreSQL. Listing is free: the balance must not move either.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from selfjourney.config import Settings
from tests.conftest import make_settings
from tests.flows import generate
from tests.hostile.steps import Account, v2_refused

JOB_ID = "3f6c2b1e-8a4d-4c5e-9f00-0123456789ab"
WHEN = "2026-01-01T00:00:00+00:00"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged(created_at: Any = WHEN, job_id: Any = JOB_ID) -> str:
    """A cursor in the server's own format, with the values given."""
    return b64(json.dumps({"createdAt": created_at, "id": job_id}).encode())


#: Cursors that answered HTTP 500 before the fix (the exception each raises in parentheses).
CRASHING = {
    # OverflowError "date value out of range" in UTCDateTime.process_bind_param (astimezone)
    "max-date-at-minus-14h": forged("9999-12-31T23:59:59-14:00"),
    "min-date-at-plus-14h": forged("0001-01-01T00:00:00+14:00"),
    # ValueError "year 0 is out of range": a naive time is taken as local time by astimezone
    "naive-min-date": forged("0001-01-01T00:00:00"),
    # RecursionError from json.loads, not caught by decode_cursor (8 KB and 24 KB cursors)
    "json-nested-3000-arrays": b64(b"[" * 3000 + b"]" * 3000),
    "json-nested-3000-objects": b64(b'{"a":' * 3000 + b"1" + b"}" * 3000),
    # UnicodeEncodeError when the lone surrogate id is bound as a query parameter
    "id-lone-surrogate": b64(b'{"createdAt": "2026-01-01T00:00:00+00:00", "id": "\\ud800"}'),
    # psycopg.DataError on PostgreSQL ("text fields cannot contain NUL"); 200 on SQLite
    "id-with-nul": forged(job_id="a\x00b"),
}

#: Cursors this server can never have issued that were answered 200 before the fix (an
#: empty or wrong page): the id is not a job UUID, or the time has no zone or is not a time.
NEVER_ISSUED = {
    "naive-datetime": forged("2026-01-01T00:00:00"),
    "naive-max-date": forged("9999-12-31T23:59:59"),
    "date-only": forged("2026-01-01"),
    "created-at-with-nul": forged("2026-01-01T00:00:00\x00"),
    "id-integer": forged(job_id=5),
    "id-object": forged(job_id={"a": 1}),
    "id-null": forged(job_id=None),
    "id-list": forged(job_id=[JOB_ID]),
    "id-10k-chars": forged(job_id="a" * 10_000),
    "id-not-a-uuid": forged(job_id="x"),
}

#: Malformed cursors refused with the 400 before the fix too (pinned).
REFUSED_TODAY = {
    "json-list": b64(b"[1, 2]"),
    "json-number": b64(b"5"),
    "json-string": b64(b'"hi"'),
    "json-null": b64(b"null"),
    "json-empty-object": b64(b"{}"),
    "json-nan": b64(b'{"createdAt": NaN, "id": "x"}'),
    "not-base64": "!!!***",
    "bad-padding": "a",
    "only-padding": "====",
    "not-utf8": b64(b"\xff\xfe\x00"),
    "unicode-text": "ünïcødé",
    "huge-60k": "A" * 60_000,
    "created-at-int": forged(1_700_000_000),
    "created-at-nested": forged({"a": {"b": [1]}}),
    "created-at-fullwidth-digits": forged("２０２６-01-01T00:00:00+00:00"),
    "created-at-year-0": forged("0000-01-01T00:00:00+00:00"),
    "id-5000-digit-int": b64(
        b'{"createdAt": "2026-01-01T00:00:00+00:00", "id": 1' + b"0" * 5000 + b"}"
    ),
}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Each test runs on SQLite and on PostgreSQL (skipped when it is not running)."""
    return make_settings(tmp_path / "data", database_url=database_url)


def _list(client: TestClient, headers: dict[str, str], cursor: str) -> Any:
    return client.get("/v2/jobs", params={"cursor": cursor}, headers=headers)


def _assert_refused(client: TestClient, headers: dict[str, str], cursor: str) -> None:
    generate(client, headers)  # one job, so a forged cursor has rows to be compared with
    account = Account(client, headers["X-API-Key"])
    response = _list(client, headers, cursor)
    assert v2_refused(response, "cursor") == ["cursor is not one this server issued"]
    assert set(response.json()) == {"error", "details"}
    account.unchanged()


@pytest.mark.parametrize("cursor", CRASHING.values(), ids=CRASHING.keys())
def test_a_cursor_that_crashes_the_listing_is_a_400(client, headers, cursor):
    """Proves that out-of-range or malformed cursor contents reach the database and answer 500.

    Before the fix: HTTP 500 {"error": "Internal server error"} (OverflowError, ValueError,
    RecursionError, UnicodeEncodeError; psycopg DataError for the NUL id on PostgreSQL).
    """
    _assert_refused(client, headers, cursor)


@pytest.mark.parametrize("cursor", NEVER_ISSUED.values(), ids=NEVER_ISSUED.keys())
def test_a_cursor_this_server_never_issued_is_a_400(client, headers, cursor):
    """Proves that decode_cursor accepts values encode_cursor never writes (naive times,
    non-string or non-UUID ids, which ``str()`` silently turns into text).

    Before the fix: HTTP 200 with a page computed from the forged values.
    """
    _assert_refused(client, headers, cursor)


@pytest.mark.parametrize("cursor", REFUSED_TODAY.values(), ids=REFUSED_TODAY.keys())
def test_a_malformed_cursor_is_a_400(client, headers, cursor):
    """Pins behaviour that already works: these malformed cursors were a 400 before the fix too."""
    _assert_refused(client, headers, cursor)


def test_the_cursors_the_server_issues_still_page_through_every_job(client, headers):
    """Pins behaviour that already works: the fix must keep real cursors working."""
    made = {generate(client, headers) for _ in range(3)}
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v2/jobs", params=params, headers=headers).json()
        seen += [job["id"] for job in page["jobs"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 3
