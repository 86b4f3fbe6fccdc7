"""Every domain error has an explicit entry in every dialect's table (httpx-style completeness)."""

from __future__ import annotations

from typing import Any

import pytest

from selfjourney.dialects.apiframe_v1.errors import STATUS as V1_STATUS
from selfjourney.dialects.apiframe_v2.errors import STATUS as V2_STATUS
from selfjourney.dialects.midapi.errors import STATUS as MIDAPI_STATUS
from selfjourney.dialects.mjproxy.errors import STATUS as MJPROXY_STATUS
from selfjourney.dialects.openai_images.errors import STATUS as OPENAI_STATUS
from selfjourney.domain import errors

TABLES: dict[str, dict[type[errors.SelfjourneyError], Any]] = {
    "apiframe_v2": V2_STATUS,
    "apiframe_v1": V1_STATUS,
    "midapi": MIDAPI_STATUS,
    "mjproxy": MJPROXY_STATUS,
    "openai": OPENAI_STATUS,
}


def _all_errors(cls: type[errors.SelfjourneyError]) -> list[type[errors.SelfjourneyError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _all_errors(sub)
    return found


@pytest.mark.parametrize("dialect", sorted(TABLES))
@pytest.mark.parametrize("error", _all_errors(errors.SelfjourneyError), ids=lambda e: e.__name__)
def test_every_error_is_mapped_in_every_dialect(dialect, error):
    assert error in TABLES[dialect], f"{dialect} does not map {error.__name__}"
