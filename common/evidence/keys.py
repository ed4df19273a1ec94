"""Ed25519 keys: load, generate, serialise, name by a key id, sign and verify.

Ed25519 because its signatures are deterministic, small, fast, and accepted by every standard tool an
auditor may use instead of ours (openssl, Go's crypto, sigstore's DSSE verifiers). Keys travel as PEM:
PKCS#8 for private keys, SubjectPublicKeyInfo for public ones, which is what ``openssl genpkey`` writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.evidence.errors import Reason, SigningKeyError, VerificationError

ALGORITHM = "ed25519"


def _pem_bytes(pem: bytes | str) -> bytes:
    if isinstance(pem, str):
        pem = pem.encode("ascii", errors="replace")
    if not isinstance(pem, bytes):
        raise SigningKeyError(f"a PEM key must be bytes or text, not {type(pem).__name__}")
    return pem


def generate_private_key() -> Ed25519PrivateKey:
    """A new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    """PEM PKCS#8, unencrypted: the file's permissions or the secret store protect it, not a passphrase."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    """PEM SubjectPublicKeyInfo, the form ``openssl pkey -pubout`` writes and every verifier reads."""
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(pem: bytes | str) -> Ed25519PrivateKey:
    """Read an unencrypted PKCS#8 PEM Ed25519 private key, or raise ``SigningKeyError`` saying why not."""
    pem = _pem_bytes(pem)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as exc:  # cryptography's way of saying "encrypted, and no password was given"
        raise SigningKeyError(f"the private key is encrypted; an unencrypted PKCS#8 key is needed ({exc})") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"not a readable PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the private key is {type(key).__name__}, not Ed25519")
    return key


def load_public_key(pem: bytes | str) -> Ed25519PublicKey:
    """Read a SubjectPublicKeyInfo PEM Ed25519 public key, or raise ``SigningKeyError`` saying why not."""
    pem = _pem_bytes(pem)
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"not a readable PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"the public key is {type(key).__name__}, not Ed25519")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    """Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo: anyone holding the public key can recompute it
    (``openssl pkey -pubin -outform DER | sha256sum``)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding, which C2SP signed notes hash into their key ids."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Signer:
    """A private key with its key id, so every signature names the key that made it.

    Two signers are equal when their key ids are: the id is checked against the key, so it names the pair.
    """

    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    key_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise SigningKeyError(f"a Signer needs an Ed25519 private key, not {type(self.private_key).__name__}")
        if self.key_id != key_id(self.private_key.public_key()):
            raise SigningKeyError("the key id does not belong to this private key")

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> Signer:
        """A signer whose key id is derived from the key itself."""
        return cls(private_key=private_key, key_id=key_id(private_key.public_key()))

    @classmethod
    def from_pem(cls, pem: bytes | str) -> Signer:
        """A signer from an unencrypted PKCS#8 PEM private key."""
        return cls.from_private_key(load_private_key(pem))

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, to publish and to verify with."""
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        """A 64-byte Ed25519 signature over ``data`` itself (pure Ed25519, no pre-hash)."""
        return self.private_key.sign(data)


def verify_signature(
    public_keys: Mapping[str, Ed25519PublicKey], key_id: str, signature: bytes, data: bytes
) -> Ed25519PublicKey:
    """Check ``signature`` over ``data`` with the trusted key named ``key_id``; return that key.

    Raises ``VerificationError`` (unknown_key or bad_signature) and nothing else, whatever the arguments.
    """
    if not isinstance(key_id, str) or key_id not in public_keys:
        raise VerificationError(Reason.UNKNOWN_KEY, f"no trusted key has the id {key_id!r}")
    if not isinstance(signature, bytes) or not isinstance(data, bytes):
        raise VerificationError(Reason.MALFORMED, "the signature and the signed data must be bytes")
    public_key = public_keys[key_id]
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        raise VerificationError(Reason.BAD_SIGNATURE, f"the signature does not verify with key {key_id}") from None
    return public_key
