"""Helpers shared by tests: members with tokens, registration bodies, markers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from core.context import Actor
from core.models import Project
from core.services import api_token_issue
from tests.factories import MembershipFactory, UserFactory

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO / "data" / "demo" / "adult.csv.gz"

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
# The CI's PostgreSQL run sets this: a test that would skip for a missing service fails instead.
REQUIRE_SERVICES = os.environ.get("REGISTRY_TEST_REQUIRE_SERVICES") == "1"

requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES and not REQUIRE_SERVICES,
    reason="needs PostgreSQL: set DATABASE_URL (the CI's second run does)",
)


@dataclass
class Member:
    """A user with one role in a project, an API token and a client that sends it."""

    user: object
    project: Project
    role: str
    token: str
    client: APIClient


def make_member(project: Project, role: str, username: str | None = None, bind_token: bool = True) -> Member:
    user = UserFactory(username=username) if username else UserFactory()
    MembershipFactory(project=project, user=user, role=role)
    _, raw = api_token_issue(
        actor=Actor.system("test"), user=user, project=project if bind_token else None, name="test"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return Member(user=user, project=project, role=role, token=raw, client=client)


def staff_client(member: Member) -> Client:
    """A browser session in the admin for this member (made staff: the admin needs it, roles do the rest)."""
    member.user.is_staff = True
    member.user.save()
    client = Client()
    client.force_login(member.user)
    return client


def registration_form(project: str = "acme", **overrides) -> dict:
    """Multipart fields for POST /api/v1/versions/ (nested fields as JSON strings)."""
    form = {
        "project": project,
        "dataset": "adult-synth",
        "generator": '{"name": "sdv.GaussianCopulaSynthesizer", "version": "1.17.0", '
        '"parameters": {"default_distribution": "beta"}, "seed": 42}',
        "sources": '[{"namespace": "postgres://warehouse:5432", "name": "public.adult"}]',
        "code_version": "git:4f2a9c1",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def registration_json(project: str = "acme", **overrides) -> dict:
    """A JSON body for POST /api/v1/versions/."""
    body = {
        "project": project,
        "dataset": "adult-synth",
        "generator": {
            "name": "sdv.GaussianCopulaSynthesizer",
            "version": "1.17.0",
            "parameters": {"default_distribution": "beta"},
            "seed": 42,
        },
        "sources": [{"namespace": "postgres://warehouse:5432", "name": "public.adult"}],
        "code_version": "git:4f2a9c1",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def upload(content: bytes, name: str = "synthetic.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
