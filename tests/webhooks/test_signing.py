import hashlib
import hmac

import pytest

from selfjourney.webhooks.signing import signature, signing_key, verify

API_KEY = "afk_test_0123456789abcdef"
BODY = b'{"event":"completed","jobId":"a1b2c3d4","status":"COMPLETED","progress":100}'


def _sdk_signature(api_key: str, body: bytes) -> str:
    """What Apiframe's SDK computes: HMAC keyed with the RAW sha256 digest of the key."""
    secret = hashlib.sha256(api_key.encode()).digest()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_signing_key_is_raw_sha256_digest():
    key = signing_key(API_KEY)
    assert key == hashlib.sha256(API_KEY.encode()).digest()
    assert len(key) == 32


def test_signature_matches_sdk_algorithm():
    assert signature(BODY, signing_key(API_KEY)) == "sha256=" + _sdk_signature(API_KEY, BODY)


def test_signature_known_answer():
    # Pinned vector (cross-checked with `openssl dgst -sha256 -mac HMAC`), so a switch to the
    # hex digest as key, or to signing a re-serialised body, cannot pass unnoticed.
    body = b'{"jobId":"j1","status":"COMPLETED"}'
    key = signing_key("afk_abc123")
    assert key.hex() == "2b4e41bd653a46ce2cdac424ac4f70f284210925dc91dbfea00e48a1946e886a"
    assert signature(body, key) == (
        "sha256=a0ac9fc7d4042d6da70b85300299bc5e7e7629bc531fb7e9aafa80139e532328"
    )


def test_signature_is_not_keyed_with_hex_digest():
    hex_keyed = hmac.new(hashlib.sha256(API_KEY.encode()).hexdigest().encode(), BODY, "sha256")
    assert signature(BODY, signing_key(API_KEY)) != "sha256=" + hex_keyed.hexdigest()


@pytest.mark.parametrize(
    "header",
    [
        "sha256=" + _sdk_signature(API_KEY, BODY),
        _sdk_signature(API_KEY, BODY),
        "  sha256=" + _sdk_signature(API_KEY, BODY) + " ",
        "SHA256=" + _sdk_signature(API_KEY, BODY).upper(),
    ],
)
def test_verify_accepts_both_header_forms(header):
    assert verify(BODY, header, signing_key(API_KEY))


def test_verify_round_trips_own_signature():
    key = signing_key(API_KEY)
    assert verify(BODY, signature(BODY, key), key)


@pytest.mark.parametrize(
    ("body", "header", "api_key"),
    [
        (BODY + b" ", "sha256=" + _sdk_signature(API_KEY, BODY), API_KEY),  # body changed
        (BODY, "sha256=" + _sdk_signature(API_KEY, BODY)[:-1] + "0", API_KEY),  # sig changed
        (BODY, "sha256=" + _sdk_signature(API_KEY, BODY), "afk_other"),  # other key
        (BODY, "sha256=" + _sdk_signature(API_KEY, BODY)[:32], API_KEY),  # truncated
        (BODY, "sha1=" + _sdk_signature(API_KEY, BODY), API_KEY),  # other scheme
        (BODY, "", API_KEY),
        (BODY, "sha256=", API_KEY),
        (BODY, "sha256=é" + _sdk_signature(API_KEY, BODY)[1:], API_KEY),  # non-ASCII
    ],
)
def test_verify_rejects_tampering(body, header, api_key):
    assert not verify(body, header, signing_key(api_key))
