"""Writes to projects, users, memberships and tokens; each one transaction with its audit event."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from .audit import audited_atomic, record_event, record_update
from .context import Actor
from .errors import InvalidInput, NotPermitted
from .models import ApiToken, Membership, Project, slug_validator
from .roles import Capability, Role
from .selectors import has_capability
from .tokens import display_prefix, hash_token, new_token_secret


def user_ensure(*, actor: Actor, username: str, email: str = "", is_staff: bool = False):
    """Return the user with this username, creating it (without a usable password) if missing."""
    User = get_user_model()
    with audited_atomic():
        user = User.objects.filter(username=username).first()
        if user is not None:
            return user
        user = User(username=username, email=email, is_staff=is_staff)
        user.set_unusable_password()
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise InvalidInput("; ".join(exc.message_dict.get("username", exc.messages)), field="username") from exc
        user.save()
        record_event(
            actor=actor,
            action="user.created",
            obj=user,
            after={"username": username, "email": email, "is_staff": is_staff},
        )
        return user


def user_set_password(*, actor: Actor, user, password: str, is_staff: bool | None = None) -> None:
    """Set a user's password (never recorded) and optionally admin access."""
    with audited_atomic():
        user.set_password(password)
        changed = {"password": "changed"}
        if is_staff is not None and user.is_staff != is_staff:
            changed["is_staff"] = is_staff
            user.is_staff = is_staff
        user.save()
        record_event(actor=actor, action="user.credentials_changed", obj=user, after=changed)


def project_ensure(*, actor: Actor, slug: str, name: str = "", description: str = "") -> Project:
    """Return the project with this slug, creating it if missing."""
    with audited_atomic():
        project = Project.objects.filter(slug=slug).first()
        if project is not None:
            return project
        try:
            slug_validator(slug)
        except ValidationError as exc:
            raise InvalidInput(exc.messages[0], field="slug") from exc
        project = Project.objects.create(slug=slug, name=name or slug, description=description)
        record_event(
            actor=actor,
            action="project.created",
            obj=project,
            project=project,
            after={"slug": slug, "name": project.name, "description": description},
        )
        return project


def membership_grant(*, actor: Actor, project: Project, user, role: str) -> Membership:
    """Give a user a role in a project (idempotent)."""
    if role not in Role.values:
        raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(Role.values)}", field="role")
    with audited_atomic():
        membership = Membership.objects.filter(project=project, user=user, role=role).first()
        if membership is not None:
            return membership
        membership = Membership.objects.create(project=project, user=user, role=role)
        record_event(
            actor=actor,
            action="membership.granted",
            obj=membership,
            project=project,
            after={"user": user.username, "role": role},
        )
        return membership


def api_token_issue(
    *, actor: Actor, user, project: Project | None, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    raw = new_token_secret()
    with audited_atomic():
        token = ApiToken.objects.create(
            user=user,
            project=project,
            name=name,
            prefix=display_prefix(raw),
            key_hash=hash_token(raw),
            expires_at=expires_at,
        )
        record_event(
            actor=actor,
            action="token.issued",
            obj=token,
            project=project,
            after={
                "user": user.username,
                "project": project.slug if project else None,
                "prefix": token.prefix,
                "name": name,
                "expires_at": expires_at,
            },
        )
    return token, raw


def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token; later requests with it get 401."""
    with audited_atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            actor=actor,
            action="token.revoked",
            obj=token,
            project=token.project,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
        )
    return token


def membership_revoke(*, actor: Actor, membership: Membership) -> None:
    """Take a role away from a user in a project."""
    with audited_atomic():
        project, user, role = membership.project, membership.user, membership.role
        deleted, _ = Membership.objects.filter(pk=membership.pk).delete()
        if deleted:
            record_event(
                actor=actor,
                action="membership.revoked",
                object_type=Membership.AUDIT_OBJECT_TYPE,
                object_id=str(membership.pk),
                object_repr=str(membership),
                project=project,
                before={"user": user.username, "role": role},
            )


PROJECT_EDITABLE = ("name", "description", "required_approvals")


def project_update(*, actor: Actor, project: Project, **changes) -> Project:
    """Project settings (name, description, approvals required), for the project's admins."""
    unknown = sorted(set(changes) - set(PROJECT_EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot be changed: {', '.join(unknown)}", field=unknown[0])
    if not has_capability(actor=actor, project=project, capability=Capability.MANAGE_POLICIES):
        raise NotPermitted(f"changing project '{project.slug}' needs the admin role")
    approvals = changes.get("required_approvals")
    if approvals is not None and (
        isinstance(approvals, bool) or not isinstance(approvals, int) or not 1 <= approvals <= 10
    ):
        raise InvalidInput("must be a whole number from 1 to 10", field="required_approvals")
    with audited_atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        record_update(actor=actor, obj=project, changes=changes, action="project.updated", project=project)
    return project
