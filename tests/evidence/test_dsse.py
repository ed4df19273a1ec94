"""DSSE envelopes: the spec's PAE, exact envelopes, each tampering named, hostile JSON refused cleanly."""

from __future__ import annotations

import base64
import copy

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.evidence.dsse import pae, sign_envelope, verify_envelope
from common.evidence.errors import Reason, VerificationError
from common.evidence.intoto import PAYLOAD_TYPE
from tests.evidence.conftest import KEY_ID_A, KEY_ID_B

STATEMENT = b'{"_type":"https://in-toto.io/Statement/v1"}'
# Ed25519 is deterministic: key A (RFC 8032 TEST 1) over PAE(in-toto type, STATEMENT) always gives this.
STATEMENT_SIG_A = "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="


def _error(envelope, keys, **options) -> tuple[Reason, str]:
    with pytest.raises(VerificationError) as error:
        verify_envelope(envelope, keys, **options)
    return error.value.reason, str(error.value)


def test_pae_is_the_spec_example():
    # secure-systems-lab/dsse protocol.md (v1.0.2), "Test Vectors".
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters_and_keeps_an_empty_body():
    assert pae("application/vnd.ex\u00e4mple+json", b"{}") == b"DSSEv1 29 application/vnd.ex\xc3\xa4mple+json 2 {}"
    assert pae("t", b"") == b"DSSEv1 1 t 0 "
    assert pae("", b" 3 x") == b"DSSEv1 0  4  3 x"


def test_pae_verifies_the_spec_example_signature():
    # The spec's example envelope is signed with ECDSA P-256 over PAE; checking that signature with the
    # spec's public key shows our PAE is byte for byte the one the spec's authors signed.
    x = 46950820868899156662930047687818585632848591499744589407958293238635476079160
    y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
    public_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    raw = base64.b64decode("A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    message = pae("http://example.com/HelloWorld", base64.b64decode("aGVsbG8gd29ybGQ="))
    public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature if PAE differed


def test_sign_envelope_exactly(signer_a):
    assert sign_envelope(STATEMENT, PAYLOAD_TYPE, signer_a) == {
        "payloadType": "application/vnd.in-toto+json",
        "payload": "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
        "signatures": [{"keyid": KEY_ID_A, "sig": STATEMENT_SIG_A}],
    }


def test_round_trip_returns_the_payload(signer_a, signer_b):
    keys = {KEY_ID_A: signer_a.public_key, KEY_ID_B: signer_b.public_key}
    envelope = sign_envelope(STATEMENT, PAYLOAD_TYPE, signer_a)
    assert verify_envelope(envelope, keys) == STATEMENT
    assert verify_envelope(envelope, keys, payload_type=PAYLOAD_TYPE) == STATEMENT
    assert verify_envelope(sign_envelope(b"", "t", signer_b), keys, payload_type="t") == b""


def test_url_safe_unpadded_base64_is_accepted_as_dsse_requires(signer_a):
    payload = b"\xfb\xff\xbf>?"  # standard base64 "+/+/Pj8=", URL-safe "-_-_Pj8"
    envelope = sign_envelope(payload, PAYLOAD_TYPE, signer_a)
    assert envelope["payload"] == "+/+/Pj8="
    url_safe = {
        "payloadType": PAYLOAD_TYPE,
        "payload": "-_-_Pj8",
        "signatures": [
            {
                "keyid": KEY_ID_A,
                "sig": base64.urlsafe_b64encode(base64.b64decode(envelope["signatures"][0]["sig"]))
                .decode()
                .rstrip("="),
            }
        ],
    }
    assert verify_envelope(url_safe, {KEY_ID_A: signer_a.public_key}) == payload


def test_each_tampering_fails_for_its_own_reason(signer_a, signer_b):
    keys = {KEY_ID_A: signer_a.public_key, KEY_ID_B: signer_b.public_key}
    good = sign_envelope(STATEMENT, PAYLOAD_TYPE, signer_a)

    payload = copy.deepcopy(good)
    payload["payload"] = base64.b64encode(STATEMENT.replace(b"v1", b"v2")).decode()
    assert _error(payload, keys) == (Reason.BAD_SIGNATURE, "no signature verifies with a trusted key")

    payload_type = copy.deepcopy(good)
    payload_type["payloadType"] = "application/json"
    assert _error(payload_type, keys) == (Reason.BAD_SIGNATURE, "no signature verifies with a trusted key")
    assert _error(payload_type, keys, payload_type=PAYLOAD_TYPE) == (
        Reason.WRONG_PAYLOAD_TYPE,
        "payloadType is 'application/json', expected 'application/vnd.in-toto+json'",
    )

    unknown = copy.deepcopy(good)
    unknown["signatures"][0]["keyid"] = "f" * 64
    assert _error(unknown, keys) == (Reason.UNKNOWN_KEY, f"no signature is by a trusted key (keyids: ['{'f' * 64}'])")

    other_key = copy.deepcopy(good)
    other_key["signatures"][0]["keyid"] = KEY_ID_B
    assert _error(other_key, keys) == (Reason.BAD_SIGNATURE, "no signature verifies with a trusted key")

    raw = bytearray(base64.b64decode(STATEMENT_SIG_A))
    raw[10] ^= 0x01
    flipped = copy.deepcopy(good)
    flipped["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    assert _error(flipped, keys) == (Reason.BAD_SIGNATURE, "no signature verifies with a trusted key")

    truncated = copy.deepcopy(good)
    truncated["signatures"][0]["sig"] = base64.b64encode(bytes(raw[:63])).decode()
    assert _error(truncated, keys) == (Reason.BAD_SIGNATURE, "no signature verifies with a trusted key")

    assert _error(good, {KEY_ID_B: signer_b.public_key}) == (
        Reason.UNKNOWN_KEY,
        f"no signature is by a trusted key (keyids: ['{KEY_ID_A}'])",
    )
    assert verify_envelope(good, keys) == STATEMENT  # the copies changed, the original still verifies


def test_a_signature_without_keyid_is_tried_against_every_trusted_key(signer_a, signer_b):
    envelope = sign_envelope(STATEMENT, PAYLOAD_TYPE, signer_b)
    del envelope["signatures"][0]["keyid"]
    assert verify_envelope(envelope, {KEY_ID_A: signer_a.public_key, KEY_ID_B: signer_b.public_key}) == STATEMENT
    assert _error(envelope, {KEY_ID_A: signer_a.public_key}) == (
        Reason.BAD_SIGNATURE,
        "no signature verifies with a trusted key",
    )
    assert _error(envelope, {}) == (Reason.UNKNOWN_KEY, "no signature is by a trusted key (keyids: [])")


def test_threshold_counts_distinct_trusted_keys(signer_a, signer_b):
    keys = {KEY_ID_A: signer_a.public_key, KEY_ID_B: signer_b.public_key}
    by_a = sign_envelope(STATEMENT, PAYLOAD_TYPE, signer_a)
    by_b = sign_envelope(STATEMENT, PAYLOAD_TYPE, signer_b)
    both = {**by_a, "signatures": by_a["signatures"] + by_b["signatures"]}
    twice = {**by_a, "signatures": by_a["signatures"] * 2}
    assert verify_envelope(both, keys, threshold=2) == STATEMENT
    assert _error(twice, keys, threshold=2) == (Reason.TOO_FEW_SIGNATURES, "1 trusted key(s) signed, 2 required")
    with pytest.raises(ValueError, match=r"^threshold must be a positive integer$"):
        verify_envelope(both, keys, threshold=0)


def _valid(signer) -> dict:
    return sign_envelope(STATEMENT, PAYLOAD_TYPE, signer)


HOSTILE = [
    (None, "the envelope is not a JSON object"),
    ([], "the envelope is not a JSON object"),
    ("envelope", "the envelope is not a JSON object"),
    (10**400, "the envelope is not a JSON object"),
    ({}, "payloadType is missing or not text"),
    ({"payloadType": 7, "payload": "", "signatures": []}, "payloadType is missing or not text"),
    ({"payloadType": "\ud800", "payload": "", "signatures": []}, "payloadType is not valid Unicode"),
    ({"payloadType": "t", "signatures": []}, "payload is missing"),
    ({"payloadType": "t", "payload": 10**1000, "signatures": []}, "payload is not base64 text"),
    ({"payloadType": "t", "payload": None, "signatures": []}, "payload is not base64 text"),
    ({"payloadType": "t", "payload": "a b", "signatures": []}, "payload is not base64 text"),
    ({"payloadType": "t", "payload": "\u00e9AAA", "signatures": []}, "payload is not base64 text"),
    ({"payloadType": "t", "payload": "ab=c", "signatures": []}, "payload is not base64 text"),
    ({"payloadType": "t", "payload": "abc==", "signatures": []}, "payload has misplaced base64 padding"),
    (
        {"payloadType": "t", "payload": "a+b_", "signatures": []},
        "payload mixes the standard and URL-safe base64 alphabets",
    ),
    (
        {"payloadType": "t", "payload": "abcde", "signatures": []},
        "payload is not valid base64 (Invalid base64-encoded string: number of data characters (5) cannot be 1 more than a multiple of 4)",
    ),
    ({"payloadType": "t", "payload": "", "signatures": []}, "signatures is missing, empty or not a list"),
    ({"payloadType": "t", "payload": "", "signatures": {"sig": ""}}, "signatures is missing, empty or not a list"),
    ({"payloadType": "t", "payload": "", "signatures": "sig"}, "signatures is missing, empty or not a list"),
    ({"payloadType": "t", "payload": "", "signatures": [[]]}, "signature 0 is not a JSON object"),
    ({"payloadType": "t", "payload": "", "signatures": [{}]}, "signature 0 is not base64 text"),
    ({"payloadType": "t", "payload": "", "signatures": [{"sig": 10**100}]}, "signature 0 is not base64 text"),
    (
        {"payloadType": "t", "payload": "", "signatures": [{"sig": "", "keyid": ["a"]}]},
        "signature 0: keyid is not text",
    ),
    ({"payloadType": "t", "payload": "", "signatures": [{"sig": ""}] * 17}, "more than 16 signatures"),
]


@pytest.mark.parametrize(("envelope", "message"), HOSTILE)
def test_hostile_shapes_are_malformed(envelope, message, signer_a):
    assert _error(envelope, {KEY_ID_A: signer_a.public_key}) == (Reason.MALFORMED, message)


def _json():
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=12,
    )


FIELDS = st.sampled_from(["payloadType", "payload", "signatures", "sig", "keyid", "extra"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_json(), field=FIELDS)
def test_any_json_gives_a_verification_error_and_nothing_else(value, field, signer_a):
    keys = {KEY_ID_A: signer_a.public_key}
    envelope = _valid(signer_a)
    if field in ("sig", "keyid"):
        envelope["signatures"][0][field] = value
    else:
        envelope[field] = value
    expect_valid = field == "extra" or (field == "keyid" and value in (None, "", KEY_ID_A))
    if expect_valid:
        assert verify_envelope(envelope, keys) == STATEMENT
    else:
        with pytest.raises(VerificationError):
            verify_envelope(envelope, keys)
    with pytest.raises(VerificationError):
        verify_envelope(value, keys)
