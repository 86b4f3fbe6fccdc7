"""The wire around the SDK's happy path: unknown paths and methods, body limits, content
types, absent values (``null``, ``""``), numbers as strings, and the parts of a form."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from selfjourney.storage.local import LocalStorage
from tests.midapi.fakes import SmallEngine
from tests.openai_images.serving import Served, decoded, png, serving
from tests.openai_images.test_sdk_edits import picture


def _post(served: Served, key: str, path: str, **options) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **options.pop("headers", {})}
    return httpx.post(f"{served.base_url}{path}", headers=headers, timeout=60, **options)


def _error(response: httpx.Response, status: int, code: str | None, param: str | None = None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    assert (error["code"], error["param"]) == (code, param), error
    return error


def test_unknown_paths_and_wrong_methods(served: Served, key: str):
    headers = {"Authorization": f"Bearer {key}"}
    missing = httpx.post(f"{served.base_url}/images/upscale", headers=headers)
    error = _error(missing, 404, "unknown_url")
    assert error["message"] == "Invalid URL (POST /v1/images/upscale)"
    wrong = httpx.get(f"{served.base_url}/images/edits", headers=headers)
    _error(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"
    assert httpx.delete(f"{served.base_url}/models/selfjourney").headers["allow"] == "GET"


def test_a_body_over_the_limit_is_a_413(served: Served, key: str):
    big = b'{"prompt": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    declared = _post(served, key, "/images/generations", content=big)
    _error(declared, 413, "request_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it is read
        yield big

    streamed = _post(
        served,
        key,
        "/images/generations",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    _error(streamed, 413, "request_too_large")
    assert served.balance(key) == 1000


def test_content_types(served: Served, key: str):
    as_json = _post(served, key, "/images/edits", json={"prompt": "x", "image": "data:..."})
    _error(as_json, 400, "invalid_content_type")
    no_image = _post(served, key, "/images/edits", data={"prompt": "x"}, files={"other": b"x"})
    _error(no_image, 400, "missing_required_parameter", "image")
    not_json = _post(served, key, "/images/generations", content=b"prompt=x")
    _error(not_json, 400, "invalid_json")
    a_list = _post(served, key, "/images/generations", json=["a fox"])
    _error(a_list, 400, "invalid_json")
    too_many = [("image[]", ("p.png", png(picture((16, 16))), "image/png"))] * 17
    _error(
        _post(served, key, "/images/edits", data={"prompt": "x"}, files=too_many),
        400,
        "invalid_value",
        "image",
    )
    two = [("image", ("p.png", png(picture()), "image/png"))] * 2
    _error(_post(served, key, "/images/variations", files=two), 400, "invalid_value", "image")
    assert served.balance(key) == 1000 and served.jobs(key) == []


def test_null_and_empty_values_are_absent_and_numbers_may_be_strings(served: Served, key: str):
    body = {"prompt": "a fox", "n": "2", "size": None, "model": None, "quality": None}
    answer = _post(served, key, "/images/generations", json=body)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]) == 2 and answer.json()["size"] == "256x256"
    form = {"prompt": "a fox", "n": "", "size": "", "output_compression": "", "stream": "false"}
    files = {"image": ("p.png", png(picture()), "image/png")}
    edited = _post(served, key, "/images/edits", data=form, files=files)
    assert edited.status_code == 200, edited.text
    [image] = edited.json()["data"]
    assert decoded(base64.b64decode(image["b64_json"])).size == (128, 96)


@pytest.mark.parametrize(
    ("form", "param", "code"),
    [
        ({"n": "true"}, "n", "invalid_type"),
        ({"n": "two"}, "n", "invalid_type"),
        ({"stream": "yes"}, "stream", "invalid_type"),
        ({"size": "auto "}, "size", "invalid_value"),
    ],
)
def test_form_values_are_checked_like_json_ones(served: Served, key: str, form, param, code):
    files = {"image": ("p.png", png(picture()), "image/png")}
    refused = _post(served, key, "/images/edits", data={"prompt": "x", **form}, files=files)
    _error(refused, 400, code, param)
    assert served.balance(key) == 1000


class UnreadablePictures(LocalStorage):
    """Stores pictures but cannot read them back: a disk failing after the job finished."""

    def get(self, key: str) -> bytes:
        if key.startswith("images/"):
            raise OSError(f"I/O error reading {key}")
        return super().get(key)


def test_an_unexpected_failure_is_a_500_in_openais_envelope(tmp_path: Path):
    with serving(tmp_path, engine=SmallEngine(), storage=UnreadablePictures) as server:
        key = server.key()
        answer = _post(server, key, "/images/generations", json={"prompt": "a fox"})
        error = _error(answer, 500, None)
        assert error["type"] == "server_error"
        streamed = _post(server, key, "/images/generations", json={"prompt": "x", "stream": True})
        assert streamed.status_code == 200
        *_, last = [line for line in streamed.text.splitlines() if line.startswith("data: ")]
        assert json.loads(last.removeprefix("data: "))["type"] == "error"
