"""Project roles and what each may do: the one table every permission check reads."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    REVIEWER = "reviewer", "Reviewer"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Project admin"


class Capability(StrEnum):
    READ = "read"
    REGISTER = "register"
    EVALUATE = "evaluate"
    DECIDE = "decide"
    # Deprecate and revoke: incident response, which a project admin may need to do without a reviewer.
    REVOKE = "revoke"
    READ_AUDIT = "read_audit"
    EXPORT = "export"
    MANAGE_POLICIES = "manage_policies"
    MANAGE_MEMBERS = "manage_members"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.PIPELINE: frozenset({Capability.READ, Capability.REGISTER, Capability.EVALUATE}),
    Role.REVIEWER: frozenset({Capability.READ, Capability.DECIDE, Capability.REVOKE}),
    Role.AUDITOR: frozenset({Capability.READ, Capability.READ_AUDIT, Capability.EXPORT}),
    Role.ADMIN: frozenset(
        {
            Capability.READ,
            Capability.READ_AUDIT,
            Capability.REVOKE,
            Capability.MANAGE_POLICIES,
            Capability.MANAGE_MEMBERS,
        }
    ),
}


def capabilities_of(roles: set[str]) -> frozenset[Capability]:
    """Union of the capabilities of several roles held in one project."""
    result: set[Capability] = set()
    for role in roles:
        result |= ROLE_CAPABILITIES.get(role, frozenset())
    return frozenset(result)
