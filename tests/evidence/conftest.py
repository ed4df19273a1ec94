"""Fixed Ed25519 keys, so signatures (deterministic in Ed25519) can be asserted byte for byte.

Key A and key B are the first two test keys of RFC 8032 §7.1 ("TEST 1" and "TEST 2"); the DSSE project's
own test vectors (secure-systems-lab/dsse testvectors/vectors.json) sign with the same two keys.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.evidence.keys import Signer

SEED_A = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBLIC_A = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
SEED_B = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
PUBLIC_B = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
# SHA-256 of the DER SubjectPublicKeyInfo, which for Ed25519 is 302a300506032b6570032100 || the 32-byte key
# (RFC 8410 §4): computed outside the library, with `printf ... | xxd -r -p | sha256sum`.
KEY_ID_A = "06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9"
KEY_ID_B = "deb2ded39dc26fce0e6085b6fc34bf6b5941913bbfe2ea614113cff9e004c170"


def signer_from_seed(seed_hex: str) -> Signer:
    return Signer.from_private_key(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)))


@pytest.fixture
def signer_a() -> Signer:
    return signer_from_seed(SEED_A)


@pytest.fixture
def signer_b() -> Signer:
    return signer_from_seed(SEED_B)
