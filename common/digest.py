"""SHA-256 of a file's bytes, read in chunks so memory stays flat whatever the size."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ContentDigest:
    """SHA-256 (hex) and size of a file's bytes."""

    sha256: str
    byte_count: int


def sha256_file(path: Path | str) -> ContentDigest:
    """Fingerprint a file by streaming it."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return ContentDigest(sha256=digest.hexdigest(), byte_count=size)
