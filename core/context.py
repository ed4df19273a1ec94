"""Who is acting, and through what: passed explicitly to every write service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    """The user (and token) behind a write, with the request it came from, for the audit trail."""

    user: AbstractBaseUser | None
    via: str
    token: ApiToken | None = None
    request_id: str = ""
    client_ip: str | None = None

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def username(self) -> str:
        return getattr(self.user, "username", "") or ""

    @classmethod
    def from_request(cls, request: Any) -> Actor:
        """The actor of an HTTP request (DRF or plain Django), authenticated or not."""
        django_request = getattr(request, "_request", request)
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            token = None
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        via = f"token:{token.prefix}" if token else ("session" if user else "anonymous")
        return cls(
            user=user,
            via=via,
            token=token,
            request_id=getattr(django_request, "request_id", ""),
            client_ip=getattr(django_request, "client_ip", None),
        )

    @classmethod
    def system(cls, via: str, user: AbstractBaseUser | None = None, request_id: str = "") -> Actor:
        """An actor for management commands and background tasks."""
        return cls(user=user, via=via, request_id=request_id)
