"""Keys: PEM in and out, key ids anyone can recompute, clear refusals for keys we cannot use."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from common.evidence.errors import Reason, SigningKeyError, VerificationError
from common.evidence.keys import (
    Signer,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    verify_signature,
)
from tests.evidence.conftest import KEY_ID_A, KEY_ID_B, PUBLIC_A

PRIVATE_PEM_A = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n"
PUBLIC_PEM_A = b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n"
# RFC 8032 §7.1 TEST 1: the signature of the empty message by key A.
EMPTY_MESSAGE_SIGNATURE_A = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_pem_round_trip_of_a_fixed_key(signer_a):
    assert private_key_pem(signer_a.private_key) == PRIVATE_PEM_A
    assert public_key_pem(signer_a.public_key) == PUBLIC_PEM_A
    assert load_public_key(PUBLIC_PEM_A).public_bytes_raw().hex() == PUBLIC_A
    assert Signer.from_pem(PRIVATE_PEM_A) == signer_a
    assert Signer.from_pem(PRIVATE_PEM_A.decode()) == signer_a


def test_key_id_is_sha256_of_the_der_public_key(signer_a, signer_b):
    assert key_id(signer_a.public_key) == KEY_ID_A
    assert signer_a.key_id == KEY_ID_A
    assert signer_b.key_id == KEY_ID_B


def test_signature_is_rfc_8032_ed25519(signer_a):
    assert signer_a.sign(b"").hex() == EMPTY_MESSAGE_SIGNATURE_A


def test_generated_keys_serialise_and_reload():
    key = generate_private_key()
    reloaded = load_private_key(private_key_pem(key))
    assert key_id(reloaded.public_key()) == key_id(key.public_key())
    assert key_id(load_public_key(public_key_pem(key.public_key()))) == key_id(key.public_key())
    assert key_id(key.public_key()) != key_id(generate_private_key().public_key())


def test_a_signer_refuses_a_key_id_of_another_key(signer_a, signer_b):
    with pytest.raises(SigningKeyError, match=r"^the key id does not belong to this private key$"):
        Signer(private_key=signer_a.private_key, key_id=signer_b.key_id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        signer_a.key_id = KEY_ID_B
    assert "PRIVATE" not in repr(signer_a) and "private_key" not in repr(signer_a)


def _other_pems() -> list[tuple[bytes, bytes]]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = serialization.PrivateFormat.PKCS8
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    return [
        (key.private_bytes(pem, pkcs8, serialization.NoEncryption()), key.public_key().public_bytes(pem, spki))
        for key in (rsa_key, ec_key)
    ]


def test_keys_of_other_algorithms_are_refused_by_name():
    (rsa_private, rsa_public), (ec_private, ec_public) = _other_pems()
    with pytest.raises(SigningKeyError, match=r"^the private key is RSAPrivateKey, not Ed25519$"):
        load_private_key(rsa_private)
    with pytest.raises(SigningKeyError, match=r"^the public key is RSAPublicKey, not Ed25519$"):
        load_public_key(rsa_public)
    with pytest.raises(SigningKeyError, match=r"^the private key is ECPrivateKey, not Ed25519$"):
        load_private_key(ec_private)
    with pytest.raises(SigningKeyError, match=r"^the public key is ECPublicKey, not Ed25519$"):
        load_public_key(ec_public)


def test_malformed_and_encrypted_keys_are_refused(signer_a):
    encrypted = signer_a.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(SigningKeyError, match=r"^the private key is encrypted"):
        load_private_key(encrypted)
    for bad in (b"", b"not a key", PRIVATE_PEM_A[:60], PUBLIC_PEM_A):
        with pytest.raises(SigningKeyError, match=r"^not a readable PEM private key"):
            load_private_key(bad)
    for bad in (b"", PUBLIC_PEM_A[:50], PRIVATE_PEM_A):
        with pytest.raises(SigningKeyError, match=r"^not a readable PEM public key"):
            load_public_key(bad)
    with pytest.raises(SigningKeyError, match=r"^a PEM key must be bytes or text, not int$"):
        load_private_key(42)


def test_verify_signature_names_the_failure(signer_a, signer_b):
    keys = {signer_a.key_id: signer_a.public_key}
    signature = signer_a.sign(b"data")
    assert verify_signature(keys, KEY_ID_A, signature, b"data").public_bytes_raw().hex() == PUBLIC_A
    cases = [
        ((KEY_ID_A, signature, b"datA"), Reason.BAD_SIGNATURE, f"the signature does not verify with key {KEY_ID_A}"),
        (
            (KEY_ID_A, signature[:-1], b"data"),
            Reason.BAD_SIGNATURE,
            f"the signature does not verify with key {KEY_ID_A}",
        ),
        ((KEY_ID_B, signer_b.sign(b"data"), b"data"), Reason.UNKNOWN_KEY, f"no trusted key has the id {KEY_ID_B!r}"),
        ((None, signature, b"data"), Reason.UNKNOWN_KEY, "no trusted key has the id None"),
        ((KEY_ID_A, "sig", b"data"), Reason.MALFORMED, "the signature and the signed data must be bytes"),
    ]
    for arguments, reason, message in cases:
        with pytest.raises(VerificationError) as error:
            verify_signature(keys, *arguments)
        assert (error.value.reason, str(error.value)) == (reason, message)
