"""Fixtures of the reports tests: a team with every role, callers of every kind, versions with evidence."""

import pytest
from rest_framework.test import APIClient

from tests.support import make_member

CALLERS = ["anonymous", "pipeline", "reviewer", "auditor", "admin", "outsider"]


@pytest.fixture
def team(project, other_project):
    """One member per role in acme, and a pipeline member of another project."""
    members = {role: make_member(project, role, f"r-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}
    members["outsider"] = make_member(other_project, "pipeline", "r-outsider")
    return members


@pytest.fixture
def client_of(team):
    def pick(caller: str) -> APIClient:
        return APIClient() if caller == "anonymous" else team[caller].client

    return pick
