"""Reads about who may do what: roles per project for an actor, and the projects a capability reaches."""

from __future__ import annotations

from collections import defaultdict

from .context import Actor
from .models import Membership, Project
from .roles import Capability, capabilities_of


def actor_roles(*, actor: Actor) -> dict[int, set[str]]:
    """Project id -> roles of the actor; a project-bound token sees only its project."""
    if actor.user is None or not actor.user.is_active:
        return {}
    # order_by() drops Meta.ordering, whose joins this lookup does not need.
    memberships = Membership.objects.filter(user_id=actor.user_id).order_by()
    if actor.token is not None and actor.token.project_id is not None:
        memberships = memberships.filter(project_id=actor.token.project_id)
    roles: dict[int, set[str]] = defaultdict(set)
    for project_id, role in memberships.values_list("project_id", "role"):
        roles[project_id].add(role)
    return dict(roles)


def project_ids_holding(roles: dict[int, set[str]], capability: Capability) -> set[int]:
    """Ids of the projects whose roles (as `actor_roles` returns them) grant the capability."""
    return {pid for pid, held in roles.items() if capability in capabilities_of(held)}


def project_ids_with(*, actor: Actor, capability: Capability) -> set[int]:
    """Ids of the projects where the actor holds the capability."""
    return project_ids_holding(actor_roles(actor=actor), capability)


def has_capability(*, actor: Actor, project: Project, capability: Capability) -> bool:
    """Whether the actor may exercise the capability in this project."""
    return capability in capabilities_of(actor_roles(actor=actor).get(project.pk, set()))


def roles_in(*, actor: Actor, project: Project) -> set[str]:
    """The actor's roles in one project (empty when none)."""
    return actor_roles(actor=actor).get(project.pk, set())
