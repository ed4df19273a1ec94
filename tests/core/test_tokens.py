"""API tokens: keywords, hashing, expiry, revocation, and the issue_token command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.context import Actor
from core.models import ApiToken, AuditEvent, Membership, Project
from core.services import api_token_revoke
from core.tokens import hash_token

pytestmark = pytest.mark.django_db


def _get(token: str, keyword: str = "Bearer"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
    return client.get("/api/v1/projects/")


def test_only_the_hash_of_a_token_is_stored(pipeline):
    token = ApiToken.objects.get(user=pipeline.user)
    assert token.key_hash == hash_token(pipeline.token)
    assert pipeline.token not in {token.key_hash, token.prefix, token.name}
    assert token.prefix == pipeline.token[4:12]
    issued = AuditEvent.objects.get(action="token.issued", object_id=str(token.pk))
    assert pipeline.token not in issued.after_json


def test_revoked_and_expired_tokens_get_401(pipeline):
    assert _get(pipeline.token).status_code == 200
    token = ApiToken.objects.get(user=pipeline.user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _get(pipeline.token).json() == {"detail": "Invalid, expired or revoked token."}
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    api_token_revoke(actor=Actor.system("test"), token=token)
    response = _get(pipeline.token)
    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked", object_id=str(token.pk)).count() == 1


def test_inactive_user_token_gets_401(pipeline):
    pipeline.user.is_active = False
    pipeline.user.save()
    assert _get(pipeline.token).status_code == 401


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer", "Invalid Authorization header: expected '<scheme> <token>'."),
        ("Bearer a b", "Invalid Authorization header: expected '<scheme> <token>'."),
    ],
)
def test_malformed_authorization_headers(db, header, detail):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/projects/")
    assert (response.status_code, response.json()) == (401, {"detail": detail})


def test_last_used_is_recorded(pipeline):
    _get(pipeline.token)
    assert ApiToken.objects.get(user=pipeline.user).last_used_at is not None


def test_issue_token_creates_user_project_membership_and_a_working_token():
    out = StringIO()
    call_command("issue_token", "etl-bot", "--project", "fraud-models", "--role", "pipeline", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Token for etl-bot (pipeline in fraud-models); shown once, store it now:"
    raw = lines[1]
    assert raw.startswith("sdr_") and len(raw) == 47
    assert Project.objects.get(slug="fraud-models").memberships.get().role == "pipeline"
    body = _get(raw, "Token").json()
    assert [(p["slug"], p["roles"]) for p in body["results"]] == [("fraud-models", ["pipeline"])]
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))
    assert actions == ["user.created", "project.created", "membership.granted", "token.issued"]


def test_issue_token_again_reuses_user_and_project():
    call_command("issue_token", "bot", "--project", "p1", "--role", "pipeline", "--quiet", stdout=StringIO())
    out = StringIO()
    call_command("issue_token", "bot", "--project", "p1", "--role", "reviewer", "--quiet", stdout=out)
    assert out.getvalue().strip().startswith("sdr_")
    assert sorted(Membership.objects.values_list("role", flat=True)) == ["pipeline", "reviewer"]
    assert ApiToken.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["bot", "--project", "Bad Slug!", "--role", "pipeline"],
            "slug: Use lowercase letters, digits and hyphens (at most 63 characters).",
        ),
        (
            ["bad user name", "--project", "p", "--role", "pipeline"],
            "username: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        ),
    ],
)
def test_issue_token_rejects_bad_input_and_writes_nothing(args, message):
    with pytest.raises(CommandError) as error:
        call_command("issue_token", *args, stdout=StringIO())
    assert str(error.value) == message
    assert AuditEvent.objects.count() == 0
    assert ApiToken.objects.count() == 0
