"""Token secrets: how they look, and how they are stored (only their SHA-256)."""

import hashlib
import secrets

TOKEN_PREFIX = "sdr_"  # noqa: S105 - a public marker, like GitHub's "ghp_", not a secret


def new_token_secret() -> str:
    """A fresh secret: 'sdr_' + 43 URL-safe characters (256 bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def display_prefix(raw: str) -> str:
    """The first characters after the scheme prefix: enough to tell tokens apart, useless to an attacker."""
    return raw.removeprefix(TOKEN_PREFIX)[:8]
