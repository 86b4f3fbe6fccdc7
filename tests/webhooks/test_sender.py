import socket

import pytest

from selfjourney.config import Settings
from selfjourney.outbound.guard import guarded_client
from selfjourney.webhooks.policy import RetryPolicy
from selfjourney.webhooks.sender import BODY_CAP, post
from selfjourney.webhooks.signing import signature, signing_key, verify
from tests.receiver import Reply, WebhookReceiver

BODY = b'{"event":"completed","jobId":"j1","status":"COMPLETED"}'
HEADERS = {"x-webhook-event": "completed"}
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def shared_receiver():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(shared_receiver):
    shared_receiver.reset()
    return shared_receiver


@pytest.fixture
def client():
    with guarded_client(allow_private=True, timeout=TIMEOUT) as client:
        yield client


def test_delivered_on_204_with_exact_body_and_headers(receiver, client):
    key = signing_key("afk_test")
    headers = {**HEADERS, "x-webhook-signature": signature(BODY, key)}
    outcome = post(client, receiver.url, BODY, headers)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (True, False, 204)
    assert outcome.error is None
    assert outcome.duration_ms >= 0
    [got] = receiver.wait_for(1)
    assert got.path == "/hook"
    assert got.body == BODY
    assert got.json["jobId"] == "j1"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-webhook-event"] == "completed"
    assert verify(got.body, got.headers["x-webhook-signature"], key)


def test_caller_headers_replace_content_type_case_insensitively(receiver, client):
    post(client, receiver.url, BODY, {"Content-Type": "application/json; charset=utf-8"})
    [got] = receiver.wait_for(1)
    assert got.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("status", [200, 201, 202, 299])
def test_any_2xx_is_delivered(receiver, client, status):
    receiver.reply_with([status])
    assert post(client, receiver.url, BODY, HEADERS).delivered


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_429_are_retryable(receiver, client, status):
    receiver.reply_with([status])
    outcome = post(client, receiver.url, BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (False, True, status)
    assert outcome.error == f"receiver answered {status}"


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_client_errors_are_final(receiver, client, status):
    receiver.reply_with([Reply(status, body=b"bad\n  signature")])
    outcome = post(client, receiver.url, BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (False, False, status)
    assert outcome.error == f"receiver answered {status}: bad signature"


def test_error_body_is_capped(receiver, client):
    receiver.reply_with([Reply(400, body=b"x" * 100_000)])
    outcome = post(client, receiver.url, BODY, HEADERS)
    assert outcome.error == "receiver answered 400: " + "x" * BODY_CAP


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_is_final_and_not_followed(receiver, client, status):
    receiver.reply_with([status])
    outcome = post(client, receiver.url, BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (False, False, status)
    assert outcome.error == f"receiver answered {status}; redirects are not followed"
    # post() returned, so a followed redirect would already have arrived.
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_plan_of_failures_then_success(receiver, client):
    receiver.reply_with([500, 503, 204])
    outcomes = [post(client, receiver.url, BODY, HEADERS) for _ in range(3)]
    assert [(o.delivered, o.retryable) for o in outcomes] == [
        (False, True),
        (False, True),
        (True, False),
    ]
    assert len(receiver.wait_for(3)) == 3


def test_slow_receiver_is_a_retryable_timeout(receiver):
    receiver.reply_with([Reply(204, delay=5.0)])
    with guarded_client(allow_private=True, timeout=0.3) as client:
        outcome = post(client, receiver.url, BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error == "receiver timed out (ReadTimeout)"
    assert 250 <= outcome.duration_ms < 3000


def test_connection_refused_is_retryable(client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = post(client, f"http://127.0.0.1:{port}/hook", BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (False, True, None)
    assert outcome.error is not None
    assert outcome.error.startswith("could not connect to receiver: ")


def test_guard_refusal_is_final(receiver):
    with guarded_client(allow_private=False, timeout=TIMEOUT) as client:
        outcome = post(client, receiver.url, BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable, outcome.status_code) == (False, False, None)
    assert outcome.error == (
        "refused: webhookUrl host 127.0.0.1 resolves to a loopback address 127.0.0.1"
    )
    assert receiver.requests == []


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "http://[::1"])
def test_unusable_url_is_final(client, url):
    outcome = post(client, url, BODY, HEADERS)
    assert (outcome.delivered, outcome.retryable) == (False, False)
    assert outcome.error is not None
    assert outcome.error.startswith("refused: invalid URL")


# --- RetryPolicy -------------------------------------------------------------------------


def test_retry_policy_delays_repeat_last_value_then_stop():
    policy = RetryPolicy(max_attempts=5, backoff=(1, 2.5))
    assert [policy.delay_before(n) for n in range(2, 7)] == [1.0, 2.5, 2.5, 2.5, None]


def test_retry_policy_single_attempt_needs_no_backoff():
    policy = RetryPolicy(max_attempts=1)
    assert policy.delay_before(2) is None


def test_retry_policy_normalises_backoff_to_float_tuple():
    policy = RetryPolicy(max_attempts=3, backoff=[5, 10])  # type: ignore[arg-type]
    assert policy.backoff == (5.0, 10.0)
    assert hash(policy) == hash(RetryPolicy(max_attempts=3, backoff=(5.0, 10.0)))


@pytest.mark.parametrize(
    ("max_attempts", "backoff", "message"),
    [
        (0, (), "at least 1"),
        (-1, (1,), "at least 1"),
        (True, (1,), "must be an int"),
        (2.0, (1,), "must be an int"),
        (3, (), "at least one delay"),
        (3, (1, -1), ">= 0"),
        (3, (float("nan"),), "finite"),
        (3, (float("inf"),), "finite"),
    ],
)
def test_retry_policy_validation(max_attempts, backoff, message):
    with pytest.raises(ValueError, match=message):
        RetryPolicy(max_attempts=max_attempts, backoff=backoff)


#: The delivery schedule a server runs with when nothing is configured.
_DEFAULTS = Settings.model_validate({})
DEFAULT_RETRY = RetryPolicy(_DEFAULTS.webhook_max_attempts, _DEFAULTS.webhook_backoff)


def test_retry_policy_rejects_first_attempt_query():
    with pytest.raises(ValueError, match="start at 2"):
        DEFAULT_RETRY.delay_before(1)


def test_default_retry_spreads_at_least_five_attempts_over_ten_minutes():
    delays = [DEFAULT_RETRY.delay_before(n) for n in range(2, DEFAULT_RETRY.max_attempts + 1)]
    assert DEFAULT_RETRY.max_attempts >= 5
    assert all(d is not None for d in delays)
    assert sum(d for d in delays if d is not None) >= 600
    assert delays == sorted(delays)  # type: ignore[type-var]
