"""Capability checks of the reports app, with the refusal wording the rest of the API uses."""

from __future__ import annotations

from governance.context import Actor
from governance.errors import NotPermitted
from governance.models import Project
from governance.roles import Capability
from governance.selectors import has_capability, roles_in


def require_capability(*, actor: Actor, project: Project, capability: Capability, what: str) -> None:
    """Raise NotPermitted naming the actor's roles when they do not allow `what` in the project."""
    # The registry has the same check, but importing it would load pandas into export workers.
    if has_capability(actor=actor, project=project, capability=capability):
        return
    roles = sorted(roles_in(actor=actor, project=project))
    held = f"your roles there ({', '.join(roles)})" if roles else "you have no role there"
    raise NotPermitted(f"{what} in project '{project.slug}' is not allowed: {held}")
