"""Every domain error has an explicit midapi code (httpx-style completeness)."""

from __future__ import annotations

import pytest

from selfjourney.dialects.midapi.errors import STATUS
from selfjourney.domain import errors

#: The body codes midapi documents (spec §1).
MIDAPI_CODES = {400, 401, 402, 404, 422, 429, 455, 500, 501, 505}


def _all_errors(cls: type[errors.SelfjourneyError]) -> list[type[errors.SelfjourneyError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _all_errors(sub)
    return found


@pytest.mark.parametrize("error", _all_errors(errors.SelfjourneyError), ids=lambda e: e.__name__)
def test_every_error_is_mapped_in_midapi(error):
    assert error in STATUS
    assert STATUS[error] in MIDAPI_CODES
