"""The one place a permission refusal is worded: what was refused, where, and which roles the actor holds."""

from __future__ import annotations

from .context import Actor
from .errors import NotPermitted
from .models import Project
from .roles import Capability
from .selectors import has_capability, roles_in


def require_capability(*, actor: Actor, project: Project, capability: Capability, what: str) -> None:
    """Raise NotPermitted naming the actor's roles in the project when they do not allow `what`."""
    if has_capability(actor=actor, project=project, capability=capability):
        return
    roles = sorted(roles_in(actor=actor, project=project))
    held = f"your roles there ({', '.join(roles)})" if roles else "you have no role there"
    raise NotPermitted(f"{what} in project '{project.slug}' is not allowed: {held}")
