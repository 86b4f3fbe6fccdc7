"""Defect 3: a webhook/callback host that cannot be IDNA-encoded.

``guard.check_url`` judges the host by ``httpx.URL(...).raw_host`` and a spelling regex, which
let through two kinds of host that blow up only when a POST is attempted:

* an ``xn--`` label that is not valid IDNA (bad Punycode, a trailing hyphen, nothing after
  ``xn--``, or Punycode of a disallowed code point such as an emoji): building the request,
  httpx decodes the host for the Host header (``httpx.URL.host`` -> ``idna.decode``) and raises
  ``idna.IDNAError`` / ``idna.InvalidCodepoint``;
* an ASCII label longer than 63 characters: ``socket.getaddrinfo`` encodes the host with
  Python's ``idna`` codec and raises ``UnicodeError: label empty or too long``, which
  ``guard.resolve_host`` does not turn into a connect error (it catches only ``OSError``).

Neither is an ``httpx`` error, so ``sender.post`` lets it escape, ``Dispatcher`` logs
"webhook delivery ... crashed" and never records the attempt: the delivery stays leased and
``pending``, is retried every lease (~4.5 min) forever, and the job's ``webhookStatus`` stays
``pending``. Required: such a host is a 400 at submission in every dialect, and every delivery
settles to ``delivered`` or ``failed`` whatever its attempt raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from selfjourney.config import Settings
from selfjourney.embedded import Embedded
from selfjourney.store.deliveries import NewDelivery
from selfjourney.webhooks.dispatcher import Dispatcher
from selfjourney.webhooks.policy import RetryPolicy
from tests.conftest import make_settings
from tests.flows import drain, generate
from tests.hostile.steps import Account, midapi_refused, v1_refused, v2_refused
from tests.records import queued_job

LONG_LABEL = "a" * 64
#: Hosts that passed ``check_url`` before the fix (with private addresses allowed or not)
#: but raised out of ``sender.post``: (id, host, what it raised).
BAD_HOSTS = {
    "punycode-garbage": "xn--abc.example",  # idna InvalidCodepoint U+0082
    "punycode-upper-case": "XN--ABC.example",  # idna InvalidCodepoint U+0082
    "punycode-one-char": "xn--a.com",  # idna InvalidCodepoint U+0080
    "punycode-trailing-hyphen": "xn--zz-.example",  # IDNAError: must not end with a hyphen
    "punycode-empty": "xn--.example",  # IDNAError: no Punycode eligible content
    "punycode-of-an-emoji": "xn--ls8h.la",  # idna InvalidCodepoint U+1F4A9
    "ascii-label-64-chars": f"{LONG_LABEL}.example",  # UnicodeError: label empty or too long
    "ascii-inner-label-64-chars": f"hooks.{LONG_LABEL}.com",  # same, from getaddrinfo
}
#: Internationalised hosts that are fine and must stay accepted (pinned).
GOOD_HOSTS = {
    "umlaut": "bücher.example",
    "sharp-s": "straße.example",
    "valid-punycode": "xn--bcher-kva.example",
    "ascii-label-63-chars": f"{'a' * 63}.example",
}


@pytest.fixture(params=[True, False], ids=["private-allowed", "public-only"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The test settings (private targets allowed), and the production policy."""
    return make_settings(tmp_path / "data", allow_private_urls=request.param)


def _url(host: str) -> str:
    return f"https://{host}/hook"


def _submit(client: TestClient, api_key: str, dialect: str, url: str) -> Any:
    """Submit a prompt with ``url`` as the webhook/callback, in ``dialect``'s own field."""
    if dialect == "v2":
        body = {"model": "midjourney", "prompt": "a fox", "webhookUrl": url}
        return client.post("/v2/images/generate", json=body, headers={"X-API-Key": api_key})
    if dialect == "v1":
        body = {"prompt": "a fox", "webhook_url": url}
        return client.post("/imagine", json=body, headers={"Authorization": api_key})
    body = {"taskType": "mj_txt2img", "prompt": "a fox", "callBackUrl": url}
    auth = {"Authorization": f"Bearer {api_key}"}
    return client.post("/api/v1/mj/generate", json=body, headers=auth)


def _refused(response: Any, dialect: str) -> str:
    if dialect == "v2":
        return " ".join(v2_refused(response, "webhookUrl"))
    if dialect == "v1":
        return v1_refused(response, "webhook_url")
    msg = midapi_refused(response, 422)
    assert "callBackUrl" in msg, msg
    return msg


@pytest.mark.parametrize("dialect", ["v2", "v1", "midapi"])
@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_an_unencodable_webhook_host_is_refused_at_submission(client, api_key, dialect, host):
    """Proves check_url accepts hosts that cannot be encoded for a request.

    Before the fix: accepted (v2 202, v1 200 task_id, midapi code 200) and 16 credits charged.
    """
    account = Account(client, api_key)
    message = _refused(_submit(client, api_key, dialect, _url(host)), dialect)
    assert "host" in message.lower(), message
    account.unchanged()


@pytest.mark.parametrize("dialect", ["v2", "v1", "midapi"])
@pytest.mark.parametrize("host", GOOD_HOSTS.values(), ids=GOOD_HOSTS.keys())
def test_a_valid_internationalised_webhook_host_is_accepted(client, api_key, dialect, host):
    """Pins behaviour that already works: the fix must not refuse valid IDN hosts."""
    response = _submit(client, api_key, dialect, _url(host))
    assert response.status_code in (200, 202), response.text
    assert response.json().get("code", 200) == 200, response.text


#: Image URL fields go through the same ``check_url``; an unencodable host there is accepted
#: and charged before the fix, then the job failed with "Image generation failed: Codepoint
#: U+0082 ..."
#: (a refund, but a traceback in the log and a message that does not name the field).
IMAGE_URL_FIELDS = ["midapi-fileUrls", "v1-blend-image_urls", "v1-upscale-highres-image_url"]


def _submit_image_url(client: TestClient, api_key: str, where: str, url: str) -> Any:
    if where == "midapi-fileUrls":
        body = {"taskType": "mj_img2img", "prompt": "a fox", "fileUrls": [url]}
        auth = {"Authorization": f"Bearer {api_key}"}
        return client.post("/api/v1/mj/generate", json=body, headers=auth)
    if where == "v1-blend-image_urls":
        body = {"image_urls": [url, "https://example.com/b.png"]}
        return client.post("/blend", json=body, headers={"Authorization": api_key})
    body = {"image_url": url, "type": "2x"}
    return client.post("/upscale-highres", json=body, headers={"Authorization": api_key})


@pytest.mark.parametrize(
    "host", ["xn--abc.example", f"{LONG_LABEL}.example"], ids=["punycode-garbage", "label-64"]
)
@pytest.mark.parametrize("where", IMAGE_URL_FIELDS)
def test_an_unencodable_image_url_host_is_refused_at_submission(client, api_key, where, host):
    """Proves the same hole on image URLs (same ``check_url``).

    Before the fix: accepted and charged; the job later fails with an IDNA exception's text.
    """
    account = Account(client, api_key)
    response = _submit_image_url(client, api_key, where, f"https://{host}/a.png")
    if where.startswith("midapi"):
        msg = midapi_refused(response, 422)
        assert "fileUrls[0]" in msg, msg
    else:
        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        field = "image_urls.0" if "blend" in where else "image_url"
        assert error["path"] == field and error["msg"].startswith(field), response.text
    account.unchanged()


# --- delivery: whatever an attempt raises, the delivery settles -----------------------------


def _job_without_webhook(client: TestClient, headers: dict[str, str]) -> str:
    job_id = generate(client, headers)
    drain(client)
    return job_id


@pytest.mark.parametrize("settings", [True], indirect=True, ids=["private-allowed"])
@pytest.mark.parametrize("host", BAD_HOSTS.values(), ids=BAD_HOSTS.keys())
def test_a_delivery_to_an_unencodable_host_settles_failed(client, headers, runtime, host):
    """Proves a delivery whose POST raises an IDNA/Unicode error is never settled.

    The row is written directly, as one accepted before a fix (or by an older version) would
    be. Before the fix: ``wait_idle`` times out, the delivery stays ``pending`` with 0 attempts,
    and the log shows "webhook delivery ... crashed" with the IDNA traceback.
    """
    job_id = _job_without_webhook(client, headers)
    url = f"http://{host}/hook"
    runtime.store.deliveries.add([NewDelivery(job_id, "completed", url, b"{}", {}, 3)])
    runtime.workers.dispatcher.notify()
    settled = runtime.workers.dispatcher.wait_idle(5)
    [delivery] = runtime.store.deliveries.for_job(job_id)
    assert settled, f"delivery still {delivery.status} after {delivery.attempts} attempts"
    assert delivery.status == "failed" and delivery.attempts >= 1, delivery
    assert delivery.last_error and host.lower() in delivery.last_error.lower(), delivery
    job = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
    assert job["webhookStatus"] == "failed", job


@pytest.fixture
def exploding_dispatcher(runtime: Embedded) -> Iterator[Dispatcher]:
    """A dispatcher on the test's store whose every POST raises a non-httpx exception."""

    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"unexpected trouble sending to {request.url.host}")

    client = httpx.Client(transport=httpx.MockTransport(explode))
    dispatcher = Dispatcher(
        deliveries=runtime.store.deliveries,
        client=client,
        policy=RetryPolicy(3, (0.05, 0.1)),
        concurrency=2,
        timeout=2,
    )
    dispatcher.start()
    try:
        yield dispatcher
    finally:
        dispatcher.stop()


@pytest.mark.parametrize("settings", [True], indirect=True, ids=["private-allowed"])
def test_a_delivery_whose_attempt_raises_anything_still_settles(runtime, exploding_dispatcher):
    """Proves any exception out of one attempt leaves the delivery leased and pending.

    Driven on the store and a dispatcher directly (no app, so no second dispatcher).
    Before the fix: ``wait_idle`` times out; the row is ``pending`` with ``attempts == 0``.
    """
    account, _ = runtime.store.accounts.create("t", credits=100)
    job, _ = runtime.store.jobs.create(queued_job(account.id))
    url = "https://hooks.example.com/hook"
    runtime.store.deliveries.add([NewDelivery(job.id, "completed", url, b"{}", {}, 3)])
    exploding_dispatcher.notify()
    settled = exploding_dispatcher.wait_idle(5)
    [delivery] = runtime.store.deliveries.for_job(job.id)
    assert settled, f"delivery still {delivery.status} after {delivery.attempts} attempts"
    assert delivery.status == "failed" and delivery.attempts >= 1, delivery
    stored = runtime.store.jobs.get(job.id)
    assert stored is not None and stored.webhook_status == "failed", stored
