"""Every domain error has an explicit status in every dialect (httpx-style completeness)."""

from __future__ import annotations

import pytest

from selfjourney.core import errors
from selfjourney.dialects.apiframe_v2.errors import STATUS as V2_STATUS


def _all_errors(cls: type[errors.SelfjourneyError]) -> list[type[errors.SelfjourneyError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _all_errors(sub)
    return found


@pytest.mark.parametrize("error", _all_errors(errors.SelfjourneyError), ids=lambda e: e.__name__)
def test_every_error_is_mapped_in_apiframe_v2(error):
    assert error in V2_STATUS
    assert 400 <= V2_STATUS[error] < 600
