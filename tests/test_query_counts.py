"""Every list endpoint answers in a fixed number of queries, whatever the number of rows it lists (no N+1).

Each endpoint is read with one row and with five rows of everything it shows; both must take exactly the
number of queries pinned here. A change that adds a query per row fails this test; a deliberate change to
what an endpoint reads updates the number, in the same commit that explains why.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.context import Actor
from governance.models import Decision, PolicyCheck
from governance.policies import policy_save
from registry.models import Evaluation, RegistrationJob, VersionSource
from reports.models import Export
from tests.factories import DatasetVersionFactory, MembershipFactory, ProjectFactory, SourceDatasetFactory
from tests.support import make_member

pytestmark = pytest.mark.django_db

RULE = {"metric": "quality.overall", "operator": ">=", "threshold": 0.5, "severity": "warn", "explanation": "why"}

# endpoint -> queries for one page, whatever the number of rows on it
PINNED = {
    "/api/v1/projects/": 4,
    "/api/v1/datasets/": 4,
    "/api/v1/versions/": 4,
    "/api/v1/sources/": 4,
    "/api/v1/generators/": 4,
    "/api/v1/registrations/": 4,
    "/api/v1/evaluations/": 4,
    "/api/v1/versions/{version}/evaluations/": 6,
    "/api/v1/versions/{version}/decisions/": 4,
    "/api/v1/versions/{version}/policy-checks/": 4,
    "/api/v1/policies/": 5,
    "/api/v1/audit-events/": 4,
    "/api/v1/exports/": 5,
}


@pytest.fixture
def everyone(project):
    """A member with every role in acme, so that every list shows its rows."""
    member = make_member(project, "admin", "all-roles", bind_token=False)
    for role in ("pipeline", "reviewer", "auditor"):
        MembershipFactory(project=project, user=member.user, role=role)
    return member


def _seed(project, member, rows: int, focus=None):
    """`rows` of everything the lists show, in acme (and a project of their own for the project list); the
    evaluations, checks and decisions go to `focus`, the version whose own lists are read."""
    user = member.user
    actor = Actor(user=user, via="test")
    for _ in range(rows):
        MembershipFactory(project=ProjectFactory(), user=user, role="auditor")
        source = SourceDatasetFactory(project=project)
        version = DatasetVersionFactory(dataset__project=project, registered_by=user, status="pending_review")
        VersionSource.objects.create(version=version, source=source, source_version="v1")
        focus = focus or version
        evaluation = Evaluation.objects.create(
            version=focus, origin="verified", state="succeeded", metrics={"quality.overall": 0.9}, requested_by=user
        )
        PolicyCheck.objects.create(
            version=focus, evaluation=evaluation, trigger="test", verdict="pass", requested_by=user
        )
        Decision.objects.create(
            version=focus,
            action="reject",
            decided_by=user,
            comment="no",
            from_status="pending_review",
            to_status="rejected",
        )
        RegistrationJob.objects.create(project=project, requested_by=user, file_path="/x", version=version)
        Export.objects.create(project=project, format="csv", requested_by=user)
        name = f"policy {Export.objects.count()}"
        policy_save(actor=actor, project=project, name=name, description="", rules=[RULE, RULE])
    return focus


def _queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    listed = len(body["results"] if isinstance(body, dict) else body)
    return len(captured), listed


@pytest.mark.parametrize("endpoint", sorted(PINNED))
def test_list_endpoints_take_a_fixed_number_of_queries(project, everyone, endpoint):
    everyone.client.get("/api/v1/")  # the token's first use of the minute records it: not the list's cost
    focus = _seed(project, everyone, 1)
    url = endpoint.format(version=focus.pk)
    counts = [_queries(everyone.client, url)]
    _seed(project, everyone, 4, focus=focus)  # 5 rows of everything now
    counts.append(_queries(everyone.client, url))
    (few, listed_few), (many, listed_many) = counts
    assert listed_many > listed_few  # the second read lists more rows
    assert (few, many) == (PINNED[endpoint], PINNED[endpoint])
