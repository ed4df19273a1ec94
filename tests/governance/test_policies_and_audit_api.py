"""Policy CRUD for project admins (versioned, snapshots stay reproducible) and the audit-trail endpoints."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.audit import verify_chain
from core.models import AuditEvent
from governance.default_policy import DEFAULT_RULES
from governance.models import Decision, Policy, PolicyCheck
from tests.factories import ProjectFactory
from tests.governance.test_workflow import PASSING, make_version
from tests.support import make_member, requires_postgres

RULE = {
    "metric": "quality.overall",
    "operator": ">=",
    "threshold": 0.9,
    "severity": "block",
    "explanation": "Our fraud models need high fidelity.",
}


@pytest.fixture
def team(project):
    return {role: make_member(project, role, f"p-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}


@pytest.mark.django_db
def test_the_default_policy_ships_with_documented_rules():
    policy = Policy.objects.get(project__isnull=True)
    rules = [(r.metric, r.operator, r.threshold, r.severity, r.explanation) for r in policy.rules.order_by("position")]
    assert rules == [tuple(rule) for rule in DEFAULT_RULES]
    assert (policy.name, policy.version, policy.is_active) == ("Default release policy", 1, True)


@pytest.mark.django_db
def test_project_admin_creates_a_stricter_policy_that_applies_to_checks(project, team):
    response = team["admin"].client.post(
        "/api/v1/policies/",
        {"project": "acme", "name": "Fraud team", "description": "stricter", "rules": [RULE]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["version"], response.json()["rules"][0]["threshold"]) == (1, 0.9)
    version = make_version(project, team["pipeline"].user)  # quality 0.91 passes
    check = team["reviewer"].client.post(f"/api/v1/versions/{version.pk}/policy-checks/").json()
    assert check["verdict"] == "pass"
    assert [p["name"] for p in check["policies"]] == ["Default release policy", "Fraud team"]


@pytest.mark.django_db
def test_updating_a_policy_bumps_its_version_and_keeps_old_snapshots(project, team):
    created = (
        team["admin"]
        .client.post("/api/v1/policies/", {"project": "acme", "name": "Fraud team", "rules": [RULE]}, format="json")
        .json()
    )
    version = make_version(project, team["pipeline"].user)
    old_check = team["reviewer"].client.post(f"/api/v1/versions/{version.pk}/policy-checks/").json()
    stricter = {**RULE, "threshold": 0.95}
    updated = team["admin"].client.put(
        f"/api/v1/policies/{created['id']}/",
        {"project": "acme", "name": "Fraud team", "rules": [stricter]},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["version"] == 2
    new_check = team["reviewer"].client.post(f"/api/v1/versions/{version.pk}/policy-checks/").json()
    assert new_check["verdict"] == "block"
    stored = PolicyCheck.objects.get(pk=old_check["id"])
    fraud = next(p for p in stored.policies if p["name"] == "Fraud team")
    assert (fraud["version"], fraud["rules"][0]["threshold"]) == (1, 0.9)
    event = AuditEvent.objects.get(action="policy.updated")
    assert (event.before["version"], event.after["version"]) == (1, 2)
    assert verify_chain().ok


@pytest.mark.django_db
def test_deleting_a_policy_deactivates_it(project, team):
    created = (
        team["admin"]
        .client.post("/api/v1/policies/", {"project": "acme", "name": "Temp", "rules": [RULE]}, format="json")
        .json()
    )
    assert team["admin"].client.delete(f"/api/v1/policies/{created['id']}/").status_code == 204
    policy = Policy.objects.get(pk=created["id"])
    assert (policy.is_active, policy.version) == (False, 2)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["pipeline", "reviewer", "auditor"])
def test_only_project_admins_manage_policies(project, team, role):
    response = team[role].client.post(
        "/api/v1/policies/", {"project": "acme", "name": "Mine", "rules": [RULE]}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "managing policies in project 'acme' needs the admin role"}
    assert Policy.objects.count() == 1


@pytest.mark.django_db
def test_global_policy_cannot_be_changed_through_the_api(team):
    default = Policy.objects.get(project__isnull=True)
    response = team["admin"].client.put(
        f"/api/v1/policies/{default.pk}/", {"project": "acme", "name": "x", "rules": [RULE]}, format="json"
    )
    assert response.status_code == 403
    assert team["admin"].client.delete(f"/api/v1/policies/{default.pk}/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({**RULE, "metric": "Quality Overall"}, "rule 0: metric must be a dotted key such as quality.overall"),
        ({**RULE, "operator": "~"}, {"0": {"operator": ['"~" is not a valid choice.']}}),
        ({**RULE, "explanation": " "}, {"0": {"explanation": ["This field may not be blank."]}}),
    ],
)
def test_invalid_rules_name_the_problem(team, rule, message):
    response = team["admin"].client.post(
        "/api/v1/policies/", {"project": "acme", "name": "Bad", "rules": [rule]}, format="json"
    )
    expected = {"rules": message if isinstance(message, dict) else [message]}
    assert (response.status_code, response.json()) == (400, expected)


@pytest.mark.django_db
def test_audit_events_are_for_auditors_and_admins_of_the_project(project, other_project, team):
    make_member(other_project, "pipeline", "elsewhere")
    response = team["auditor"].client.get("/api/v1/audit-events/?action=token.issued")
    assert response.status_code == 200
    events = response.json()["results"]
    assert {e["project"] for e in events} == {"acme"}
    assert {e["after"]["user"] for e in events} == {"p-pipeline", "p-reviewer", "p-auditor", "p-admin"}
    assert team["admin"].client.get("/api/v1/audit-events/").status_code == 200
    for role in ("pipeline", "reviewer"):
        denied = team[role].client.get("/api/v1/audit-events/")
        assert denied.status_code == 403
        assert denied.json() == {"detail": "the audit trail needs the auditor or admin role in a project"}


@pytest.mark.django_db
def test_audit_verify_endpoint_answers_within_the_callers_projects(project, other_project, team):
    make_member(other_project, "pipeline", "elsewhere")  # events of another project
    response = team["auditor"].client.get("/api/v1/audit/verify/")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "scope": "projects",
        "projects": ["acme"],
        "checked": AuditEvent.objects.filter(project_id=project.pk).count(),
        "first_bad_sequence": None,
        "reason": "",
    }
    assert AuditEvent.objects.filter(project_id=project.pk).count() < AuditEvent.objects.count()
    assert team["pipeline"].client.get("/api/v1/audit/verify/").status_code == 403


@pytest.mark.django_db
def test_audit_verify_names_a_break_only_inside_the_callers_projects(project, other_project, team):
    from django.db import connection

    make_member(other_project, "pipeline", "elsewhere")
    theirs = AuditEvent.objects.filter(project_id=other_project.pk).order_by("sequence").first()
    with connection.cursor() as cursor:  # a tampered row, as someone with database access could leave it
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # the append-only triggers off
        cursor.execute("UPDATE governance_auditevent SET action = 'forged' WHERE sequence = %s", [theirs.sequence])
    body = team["auditor"].client.get("/api/v1/audit/verify/").json()
    assert (body["ok"], body["first_bad_sequence"]) == (False, None)
    assert body["reason"] == "the chain breaks at an event outside your projects: ask a staff auditor"
    staff = make_member(project, "auditor", "staff-auditor")
    staff.user.is_staff = True
    staff.user.save()
    full = staff.client.get("/api/v1/audit/verify/").json()
    assert (full["ok"], full["scope"], full["first_bad_sequence"]) == (False, "all", theirs.sequence)
    assert full["reason"] == f"event {theirs.sequence} was changed after it was written"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_exactly_one_wins():
    project = ProjectFactory(slug="acme")
    pipeline = make_member(project, "pipeline", "pipe")
    reviewers = [make_member(project, "reviewer", f"rev{i}") for i in range(2)]
    version = make_version(project, pipeline.user, metrics=PASSING)
    barrier = threading.Barrier(2)

    def act(args):
        member, action = args
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {member.token}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/versions/{version.pk}/decisions/", {"action": action, "comment": "decided"}, format="json"
            )
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(act, [(reviewers[0], "approve"), (reviewers[1], "reject")]))
    codes = sorted(code for code, _ in results)
    assert codes == [201, 409]
    loser = next(body for code, body in results if code == 409)
    version.refresh_from_db()
    assert loser["status"] == version.status
    assert version.status in ("approved", "rejected")
    assert Decision.objects.count() == 1
    assert verify_chain().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"rules": "abc"}, {"rules": {"non_field_errors": ['Expected a list of items but got type "str".']}}),
        (
            {"rules": [{"metric": "quality.overall"}]},
            {"rules": ["rule 0: operator must be one of >=, >, <=, <, ==, !="]},
        ),
    ],
)
def test_bad_patches_are_400_not_500(team, patch, expected):
    created = (
        team["admin"]
        .client.post("/api/v1/policies/", {"project": "acme", "name": "Patchable", "rules": [RULE]}, format="json")
        .json()
    )
    response = team["admin"].client.patch(f"/api/v1/policies/{created['id']}/", patch, format="json")
    assert (response.status_code, response.json()) == (400, expected)
    assert Policy.objects.get(pk=created["id"]).version == 1


@pytest.mark.django_db
def test_a_patch_changes_only_what_it_names(team):
    created = (
        team["admin"]
        .client.post(
            "/api/v1/policies/",
            {"project": "acme", "name": "Patchable", "description": "old", "rules": [RULE]},
            format="json",
        )
        .json()
    )
    response = team["admin"].client.patch(f"/api/v1/policies/{created['id']}/", {"description": "new"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["description"], body["version"], body["rules"][0]["threshold"]) == ("new", 2, 0.9)
