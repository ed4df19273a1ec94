"""Project admins manage members and policies in the admin, through the audited services."""

import pytest

from core.models import AuditEvent, Membership
from governance.models import Policy
from tests.factories import UserFactory
from tests.support import make_member, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_member(project):
    member = make_member(project, "admin", "proj-admin")
    member.browser = staff_client(member)
    return member


def _rules_formset(prefix="rules", rows=()):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "1",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def test_project_admin_grants_and_revokes_a_role(project, other_project, admin_member):
    newcomer = UserFactory(username="newcomer")
    response = admin_member.browser.post(
        "/admin/core/membership/add/", {"project": project.pk, "user": newcomer.pk, "role": "reviewer"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(user=newcomer)
    assert (membership.project, membership.role) == (project, "reviewer")
    granted = AuditEvent.objects.get(action="membership.granted", object_id=str(membership.pk))
    assert (granted.actor_username, granted.after) == ("proj-admin", {"user": "newcomer", "role": "reviewer"})

    response = admin_member.browser.post(f"/admin/core/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(user=newcomer).exists()
    assert AuditEvent.objects.filter(action="membership.revoked", object_id=str(membership.pk)).count() == 1


def test_project_admin_cannot_grant_roles_in_another_project(other_project, admin_member):
    newcomer = UserFactory(username="newcomer2")
    response = admin_member.browser.post(
        "/admin/core/membership/add/", {"project": other_project.pk, "user": newcomer.pk, "role": "admin"}
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "Select a valid choice" in response.content.decode()
    assert not Membership.objects.filter(user=newcomer).exists()


def test_reviewer_cannot_manage_members(project, reviewer):
    assert staff_client(reviewer).get("/admin/core/membership/add/").status_code == 403


def test_project_admin_creates_and_versions_a_policy_in_the_admin(project, admin_member):
    rule = {
        "position": "0",
        "metric": "quality.overall",
        "operator": ">=",
        "threshold": "0.9",
        "severity": "block",
        "explanation": "Fraud models need high fidelity.",
    }
    data = {"project": project.pk, "name": "Fraud team", "description": "", **_rules_formset(rows=[rule])}
    response = admin_member.browser.post("/admin/governance/policy/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = Policy.objects.get(name="Fraud team")
    assert (policy.project, policy.version, [r.threshold for r in policy.rules.all()]) == (project, 1, [0.9])

    stricter = {**rule, "threshold": "0.95"}
    data = {"name": "Fraud team", "description": "stricter", **_rules_formset(rows=[stricter])}
    response = admin_member.browser.post(f"/admin/governance/policy/{policy.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    policy.refresh_from_db()
    assert (policy.version, policy.description, [r.threshold for r in policy.rules.all()]) == (2, "stricter", [0.95])
    assert list(
        AuditEvent.objects.filter(object_id=str(policy.pk), action__startswith="policy.").values_list(
            "action", flat=True
        )
    ) == [
        "policy.created",
        "policy.updated",
    ]


def test_invalid_rule_is_a_form_error_not_a_crash(project, admin_member):
    rule = {
        "position": "0",
        "metric": "Quality!",
        "operator": ">=",
        "threshold": "1",
        "severity": "block",
        "explanation": "x",
    }
    data = {"project": project.pk, "name": "Bad", "description": "", **_rules_formset(rows=[rule])}
    response = admin_member.browser.post("/admin/governance/policy/add/", data)
    assert response.status_code == 200
    assert "A dotted metric key such as quality.overall." in response.content.decode()
    assert not Policy.objects.filter(name="Bad").exists()


def test_the_global_policy_is_read_only_for_project_admins(admin_member):
    default = Policy.objects.get(project__isnull=True)
    page = admin_member.browser.get(f"/admin/governance/policy/{default.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_member.browser.post(f"/admin/governance/policy/{default.pk}/change/", {"name": "mine"})
    assert response.status_code == 403


def test_project_admin_sets_the_approvals_required(project, admin_member):
    response = admin_member.browser.post(
        f"/admin/core/project/{project.pk}/change/",
        {
            "name": "Acme",
            "description": "fraud",
            "required_approvals": "2",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    project.refresh_from_db()
    assert (project.required_approvals, project.description) == (2, "fraud")
    event = AuditEvent.objects.get(action="project.updated")
    assert event.after == {"description": "fraud", "required_approvals": 2}


def test_project_admin_revokes_tokens_in_the_admin(project, admin_member, pipeline):
    from core.models import ApiToken

    token = ApiToken.objects.get(user=pipeline.user)
    response = admin_member.browser.post(
        "/admin/core/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert pipeline.client.get("/api/v1/projects/").status_code == 401


def test_revoke_token_command(pipeline):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from core.models import ApiToken

    token = ApiToken.objects.get(user=pipeline.user)
    out = StringIO()
    call_command("revoke_token", token.prefix, stdout=out)
    assert out.getvalue().strip() == f"revoked {token.prefix}… of pipe"
    with pytest.raises(CommandError, match="no active token with prefix"):
        call_command("revoke_token", token.prefix)


def test_old_admin_links_of_the_moved_models_redirect_to_their_new_place(admin_member):
    response = admin_member.browser.get("/admin/governance/membership/?project__id__exact=1")
    assert (response.status_code, response["Location"]) == (301, "/admin/core/membership/?project__id__exact=1")
    response = admin_member.browser.get("/admin/governance/auditevent/7/change/")
    assert (response.status_code, response["Location"]) == (301, "/admin/core/auditevent/7/change/")
    assert admin_member.browser.get("/admin/governance/policy/").status_code == 200  # policies stayed
