"""Refusals and failures as the real SDK raises them: keys, bad inputs (``param`` named, nothing
charged), credits, a failed job, a wait that runs out, idempotency."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fakes import FailingEngine
from tests.openai_images.serving import Served, data_of, extra, png, serving
from tests.openai_images.test_sdk_edits import picture, white_mask

PICTURE = ("p.png", png(picture()), "image/png")


def test_a_wrong_revoked_or_missing_key_is_a_401(served: Served, key: str):
    with pytest.raises(openai.AuthenticationError) as wrong:
        served.sdk("afk_not-a-key-at-all").images.generate(prompt="a fox")
    assert wrong.value.code == "invalid_api_key" and "afk_no" in wrong.value.message
    revoked = served.key()
    accounts = served.runtime.store.accounts
    accounts.set_active(accounts.find(revoked).id, False)
    with pytest.raises(openai.AuthenticationError):
        served.sdk(revoked).models.list()
    bare = httpx.post(f"{served.base_url}/images/generations", json={"prompt": "a fox"})
    assert bare.status_code == 401
    assert bare.json()["error"] == {
        "message": bare.json()["error"]["message"],
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert "Authorization: Bearer" in bare.json()["error"]["message"]
    assert served.balance(key) == 1000


#: (arguments of images.generate, the param OpenAI would name, its code)
BAD_GENERATIONS: list[tuple[dict[str, Any], str, str]] = [
    ({"n": 5}, "n", "integer_above_max_value"),
    ({"n": 0}, "n", "integer_below_min_value"),
    ({"size": "1000x100"}, "size", "invalid_value"),
    ({"size": "5000x5000"}, "size", "invalid_value"),
    ({"size": "big"}, "size", "invalid_value"),
    ({"response_format": "png"}, "response_format", "invalid_value"),
    ({"output_format": "gif"}, "output_format", "invalid_value"),
    ({"output_compression": 101}, "output_compression", "invalid_value"),
    ({"quality": "ultra"}, "quality", "invalid_value"),
    ({"background": "green"}, "background", "invalid_value"),
    ({"prompt": "   "}, "prompt", "invalid_value"),
    ({"prompt": "x" * 32_001}, "prompt", "string_above_max_length"),
    ({"prompt": "a fox --chaos 500"}, "prompt", "invalid_value"),
    ({"extra_body": {"seed": "abc"}}, "seed", "invalid_value"),
    ({"extra_body": {"n": True}}, "n", "invalid_type"),
]


@pytest.mark.parametrize(("arguments", "param", "code"), BAD_GENERATIONS)
def test_bad_generations_name_their_param_and_cost_nothing(
    served: Served, key: str, arguments, param, code
):
    arguments = {"prompt": "a fox", **arguments}
    with pytest.raises(openai.BadRequestError) as refused:
        served.sdk(key).images.generate(**arguments)
    assert (refused.value.param, refused.value.code) == (param, code), refused.value.body
    assert served.balance(key) == 1000 and served.jobs(key) == []


def _unreadable() -> tuple[str, bytes, str]:
    return ("p.png", b"this is not a picture", "image/png")


BAD_EDITS: list[tuple[dict[str, Any], str, str]] = [
    ({"image": _unreadable()}, "image", "invalid_image_file"),
    ({"mask": ("m.png", png(white_mask((64, 64))), "image/png")}, "mask", "invalid_image_file"),
    (
        {"mask": ("m.png", png(white_mask().point(lambda _: 0)), "image/png")},
        "mask",
        "invalid_image_file",
    ),
    ({"n": 9}, "n", "integer_above_max_value"),
    ({"extra_body": {"strength": "wild"}}, "strength", "invalid_value"),
    ({"input_fidelity": "medium"}, "input_fidelity", "invalid_value"),
]


@pytest.mark.parametrize(("arguments", "param", "code"), BAD_EDITS)
def test_bad_edits_name_their_param_and_cost_nothing(
    served: Served, key: str, arguments, param, code
):
    arguments = {"image": PICTURE, "prompt": "a door", **arguments}
    with pytest.raises(openai.BadRequestError) as refused:
        served.sdk(key).images.edit(**arguments)
    assert (refused.value.param, refused.value.code) == (param, code), refused.value.body
    assert served.balance(key) == 1000 and served.jobs(key) == []


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
def test_variations_do_not_stream(served: Served, key: str):
    with pytest.raises(openai.BadRequestError) as refused:
        served.sdk(key).images.create_variation(image=PICTURE, extra_body={"stream": True})
    assert refused.value.param == "stream"
    assert served.balance(key) == 1000 and served.jobs(key) == []


def test_not_enough_credits_is_openais_429_and_not_retried(served: Served):
    poor = served.key(credits=10)
    served.sent.clear()
    with pytest.raises(openai.RateLimitError) as refused:
        served.sdk(poor, max_retries=2).images.generate(prompt="a fox")
    assert refused.value.code == "insufficient_quota" and refused.value.type == "insufficient_quota"
    assert "costs 16 credits" in refused.value.message
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert len(served.sent) == 1  # the SDK's two retries would buy nothing
    assert served.balance(poor) == 10 and served.jobs(poor) == []


def test_an_idempotency_key_replays_the_job_once_charged(served: Served, key: str):
    client = served.sdk(key)
    headers = {"Idempotency-Key": "chat-42"}
    first = client.images.generate(prompt="a fox", extra_headers=headers)
    again = client.images.generate(prompt="a fox", extra_headers=headers)
    assert extra(again, "job_id") == extra(first, "job_id")
    assert data_of(again)[0].b64_json == data_of(first)[0].b64_json
    assert served.balance(key) == 1000 - 16
    with pytest.raises(openai.ConflictError) as conflict:
        client.images.generate(prompt="a wolf", extra_headers=headers)
    assert conflict.value.code == "idempotency_conflict"
    assert conflict.value.response.headers["x-should-retry"] == "false"


@pytest.fixture(scope="module")
def paused(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Rendering paused (no worker threads) and a short wait: every request times out."""
    with serving(tmp_path_factory.mktemp("paused"), workers=0, openai_timeout=0.5) as server:
        yield server


def test_a_timeout_is_a_504_the_sdk_does_not_retry(paused: Served):
    key = paused.key()
    paused.sent.clear()
    with pytest.raises(openai.InternalServerError) as timed_out:
        paused.sdk(key, max_retries=2).images.generate(prompt="a fox")
    error = timed_out.value
    assert (error.status_code, error.code) == (504, "generation_timeout")
    job_id = error.response.headers["X-Job-Id"]
    assert error.body["job_id"] == job_id and f"/v2/jobs/{job_id}" in error.message  # type: ignore[index]
    assert len(paused.sent) == 1  # not retried: a retry would buy another grid
    job = paused.v2(key, f"/jobs/{job_id}")
    assert job["status"] == "QUEUED" and job["creditCost"] == 16  # it goes on, charged
    assert paused.balance(key) == 1000 - 16


def test_the_wait_ends_before_the_sdks_read_timeout(tmp_path: Path):
    """``x-stainless-read-timeout`` 6 s: the server answers 504 after 3 s (its bound is 300 s),
    so the client reads an answer, not its own timeout."""
    with serving(tmp_path, workers=0, openai_timeout=300) as server:
        started = time.monotonic()
        with pytest.raises(openai.InternalServerError) as timed_out:
            server.sdk(server.key(), timeout=6.0, max_retries=0).images.generate(prompt="x")
        assert timed_out.value.status_code == 504
        assert 2.9 < time.monotonic() - started < 6.0


def test_a_failed_job_is_a_500_and_refunded(tmp_path: Path):
    with serving(tmp_path, engine=FailingEngine()) as server:
        key = server.key()
        with pytest.raises(openai.InternalServerError) as failed:
            server.sdk(key, max_retries=0).images.generate(prompt="a fox")
        error = failed.value
        assert (error.status_code, error.code) == (500, "generation_failed")
        assert error.body["message"] == "Image generation failed: CUDA out of memory"  # type: ignore[index]
        job = server.v2(key, f"/jobs/{error.response.headers['X-Job-Id']}")
        assert job["status"] == "FAILED" and job["creditCost"] == 0
        assert server.balance(key) == 1000
