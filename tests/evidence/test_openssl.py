"""An outside tool agrees with us: openssl verifies our signatures, and we verify openssl's.

If these pass, an auditor with nothing but openssl can check a DSSE envelope (over its PAE) and a
checkpoint note (over its text) that the registry signed, and keys made by openssl work as signing keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from common.evidence.checkpoint import sign_checkpoint
from common.evidence.dsse import pae, sign_envelope, verify_envelope
from common.evidence.intoto import PAYLOAD_TYPE, canonical_json, statement
from common.evidence.keys import Signer, key_id, load_private_key, load_public_key, public_key_pem
from tests.evidence.conftest import KEY_ID_A

VERIFIED = "Signature Verified Successfully"
FAILED = "Signature Verification Failure"


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def openssl_dir(tmp_path) -> Path:
    """A scratch directory, once openssl is known to sign raw messages with Ed25519 (OpenSSL >= 3.0)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command-line tool is not installed")
    probe = _openssl("genpkey", "-algorithm", "ED25519", "-out", "probe.pem", cwd=tmp_path)
    if probe.returncode != 0:
        pytest.skip(f"this openssl has no Ed25519: {probe.stderr.strip()}")
    (tmp_path / "probe.bin").write_bytes(b"probe")
    raw = _openssl(
        "pkeyutl", "-sign", "-inkey", "probe.pem", "-rawin", "-in", "probe.bin", "-out", "probe.sig", cwd=tmp_path
    )
    if raw.returncode != 0:
        pytest.skip(f"this openssl cannot sign raw input with Ed25519 (-rawin needs 3.0): {raw.stderr.strip()}")
    return tmp_path


def _openssl_verify(directory: Path, public_pem: bytes, message: bytes, signature: bytes) -> tuple[int, str]:
    (directory / "pub.pem").write_bytes(public_pem)
    (directory / "message.bin").write_bytes(message)
    (directory / "sig.bin").write_bytes(signature)
    result = _openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "pub.pem",
        "-rawin",
        "-in",
        "message.bin",
        "-sigfile",
        "sig.bin",
        cwd=directory,
    )
    return result.returncode, result.stdout.strip()


def test_openssl_verifies_our_envelope_signature(openssl_dir, signer_a):
    payload = canonical_json(statement([("data.csv", "ab" * 32)], "https://example.org/p/v1", {"seed": 7}))
    envelope = sign_envelope(payload, PAYLOAD_TYPE, signer_a)
    signed = pae(envelope["payloadType"], base64.b64decode(envelope["payload"]))
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    public_pem = public_key_pem(signer_a.public_key)

    assert _openssl_verify(openssl_dir, public_pem, signed, signature) == (0, VERIFIED)
    assert _openssl_verify(openssl_dir, public_pem, signed.replace(b"seed", b"Seed"), signature) == (1, FAILED)
    assert _openssl_verify(openssl_dir, public_pem, payload, signature) == (1, FAILED)  # PAE, not the bare payload


def test_openssl_verifies_our_checkpoint_note(openssl_dir, signer_a):
    checkpoint = sign_checkpoint(
        origin="registry.example/audit",
        tree_size=3,
        root_hash=bytes(range(32)),
        timestamp=dt.datetime(2026, 8, 1, 12, tzinfo=dt.UTC),
        signer=signer_a,
    )
    body = checkpoint.note.split("\n\n")[0].encode() + b"\n"
    public_pem = public_key_pem(signer_a.public_key)
    assert _openssl_verify(openssl_dir, public_pem, body, checkpoint.signature) == (0, VERIFIED)
    assert _openssl_verify(openssl_dir, public_pem, body.replace(b"\n3\n", b"\n4\n"), checkpoint.signature) == (
        1,
        FAILED,
    )


def test_keys_and_signatures_made_by_openssl_verify_with_us(openssl_dir):
    assert _openssl("genpkey", "-algorithm", "ED25519", "-out", "key.pem", cwd=openssl_dir).returncode == 0
    assert _openssl("pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem", cwd=openssl_dir).returncode == 0
    assert (
        _openssl("pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der", cwd=openssl_dir).returncode
        == 0
    )
    private_key = load_private_key((openssl_dir / "key.pem").read_bytes())
    public_key = load_public_key((openssl_dir / "pub.pem").read_bytes())
    assert key_id(public_key) == hashlib.sha256((openssl_dir / "pub.der").read_bytes()).hexdigest()
    assert Signer.from_private_key(private_key).key_id == key_id(public_key)

    payload = b'{"made":"elsewhere"}'
    (openssl_dir / "pae.bin").write_bytes(pae(PAYLOAD_TYPE, payload))
    signed = _openssl(
        "pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "pae.bin", "-out", "pae.sig", cwd=openssl_dir
    )
    assert signed.returncode == 0
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": key_id(public_key), "sig": base64.b64encode((openssl_dir / "pae.sig").read_bytes()).decode()}
        ],
    }
    assert verify_envelope(envelope, {key_id(public_key): public_key}, payload_type=PAYLOAD_TYPE) == payload


def test_openssl_recomputes_our_key_id_from_the_published_pem(openssl_dir, signer_a):
    # An auditor given only the published PEM gets the key id every signature names, without our code.
    (openssl_dir / "published.pem").write_bytes(public_key_pem(signer_a.public_key))
    pubout = _openssl(
        "pkey", "-pubin", "-in", "published.pem", "-outform", "DER", "-out", "published.der", cwd=openssl_dir
    )
    assert pubout.returncode == 0
    assert hashlib.sha256((openssl_dir / "published.der").read_bytes()).hexdigest() == KEY_ID_A
