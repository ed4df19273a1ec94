"""Reviewers in the admin: the queue, the evidence and the decision buttons call the workflow service."""

import html as html_module

import pytest
from django.test import Client

from governance.models import Decision
from tests.governance.test_workflow import PASSING, make_version
from tests.support import make_member

pytestmark = pytest.mark.django_db

LEAKY = {
    **PASSING,
    "privacy.exact_copy_rate": 0.4013,
    "privacy.exact_copies": 10483,
    "privacy.dcr_baseline_protection": 0.0025,
    "privacy.dcr_share": 0.745,
}
WARN = {**PASSING, "privacy.dcr_overfitting_protection": 0.24}


@pytest.fixture
def team(project):
    members = {role: make_member(project, role, f"a-{role}") for role in ("pipeline", "reviewer", "auditor")}
    for member in members.values():
        member.user.is_staff = True
        member.user.save()
    return members


def _browser(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def _run_checks(*versions):
    from core.context import Actor
    from governance.policies import policy_check_run

    for version in versions:
        policy_check_run(actor=Actor.system("test"), version=version, trigger="evaluation")


def test_review_queue_lists_pending_versions_oldest_first_with_badges(project, team):
    ok = make_version(project, team["pipeline"].user, metrics=WARN)
    leaky = make_version(project, team["pipeline"].user, metrics=LEAKY)
    make_version(project, team["pipeline"].user, status="approved")
    _run_checks(ok, leaky)
    html = _browser(team["reviewer"]).get("/admin/governance/reviewqueueitem/").content.decode()
    assert "2 review queue" in html
    assert html.index(str(ok)) < html.index(str(leaky))
    assert "10483 copies · DCR 0.00" in html
    assert ">BLOCK<" in html and ">WARN<" in html
    assert 'title="privacy.exact_copy_rate = 0.4013 (must be &lt;= 0.001)"' in html


def test_version_page_shows_blocking_rules_and_no_approval_path(project, team):
    leaky = make_version(project, team["pipeline"].user, metrics=LEAKY)
    _run_checks(leaky)
    html = _browser(team["reviewer"]).get(f"/admin/registry/datasetversion/{leaky.pk}/change/").content.decode()
    assert "Blocking rules — approval is impossible" in html
    assert "<code>privacy.exact_copy_rate = 0.4013 (must be &lt;= 0.001)</code>" in html
    assert 'value="approve" class="button default"\n          disabled title="blocked by policy"' in html


def test_approve_button_with_a_waiver_approves(project, team):
    version = make_version(project, team["pipeline"].user, metrics=WARN)
    _run_checks(version)
    browser = _browser(team["reviewer"])
    response = browser.post(
        f"/admin/registry/datasetversion/{version.pk}/decide/",
        {"action": "approve", "comment": "fine", "waiver": "DCR 0.24 is expected for a copula on coarse columns"},
        follow=True,
    )
    version.refresh_from_db()
    assert version.status == "approved"
    assert "Approve recorded; status is now Approved." in response.content.decode()
    decision = Decision.objects.get(version=version)
    assert (decision.decided_by, decision.decided_via) == (team["reviewer"].user, "session")


def test_refusals_are_shown_and_change_nothing(project, team):
    version = make_version(project, team["pipeline"].user, metrics=WARN)
    _run_checks(version)
    response = _browser(team["reviewer"]).post(
        f"/admin/registry/datasetversion/{version.pk}/decide/", {"action": "approve"}, follow=True
    )
    assert "Approve refused: required to approve over failing warn rules" in response.content.decode()
    version.refresh_from_db()
    assert version.status == "pending_review"


def test_pipeline_sees_no_buttons_and_cannot_post_decisions(project, team):
    version = make_version(project, team["pipeline"].user)
    browser = _browser(team["pipeline"])
    html = browser.get(f"/admin/registry/datasetversion/{version.pk}/change/").content.decode()
    assert 'name="action"' not in html
    response = browser.post(f"/admin/registry/datasetversion/{version.pk}/decide/", {"action": "approve"}, follow=True)
    text = html_module.unescape(response.content.decode())
    assert "Approve refused: 'approve' in project 'acme' is not allowed: your roles there (pipeline)" in text
    version.refresh_from_db()
    assert version.status == "pending_review"


def test_another_projects_version_cannot_be_decided(project, other_project, team):
    from tests.factories import DatasetVersionFactory

    theirs = DatasetVersionFactory(dataset__project=other_project, status="pending_review")
    response = _browser(team["reviewer"]).post(
        f"/admin/registry/datasetversion/{theirs.pk}/decide/", {"action": "reject"}
    )
    assert response.status_code in (302, 403)
    theirs.refresh_from_db()
    assert theirs.status == "pending_review"


def test_the_waiver_field_is_next_to_approve_even_when_the_stored_check_passes(project, team):
    # Approve re-runs the check: evidence that arrived since the stored one may fail a warn rule.
    version = make_version(project, team["pipeline"].user)
    _run_checks(version)
    page = f"/admin/registry/datasetversion/{version.pk}/change/"
    html = _browser(team["reviewer"]).get(page).content.decode()
    assert "Every rule passes." in html
    assert '<textarea name="waiver" id="id_waiver"' in html
    assert "Needed only to approve when warn rules fail." in html
    for role in ("pipeline", "auditor"):  # no approval, no waiver field
        assert 'name="waiver"' not in _browser(team[role]).get(page).content.decode()


def test_revoking_in_the_admin_lists_the_downstream_impact(project, other_project, team):
    from registry.models import SourceDataset, VersionSource
    from tests.factories import DatasetFactory

    user = team["pipeline"].user
    revoked = make_version(project, user, status="approved", dataset=DatasetFactory(project=project, name="upstream"))
    source = SourceDataset.objects.create(project=project, namespace="synthetic-registry", name="acme/upstream")
    theirs_source = SourceDataset.objects.create(
        project=other_project, namespace="synthetic-registry", name="acme/upstream"
    )
    children = {
        "in-use": make_version(
            project, user, status="approved", dataset=DatasetFactory(project=project, name="in-use")
        ),
        "retired": make_version(
            project, user, status="deprecated", dataset=DatasetFactory(project=project, name="retired")
        ),
        "theirs": make_version(
            other_project, user, status="approved", dataset=DatasetFactory(project=other_project, name="theirs")
        ),
    }
    for name, child in children.items():
        link = theirs_source if name == "theirs" else source
        VersionSource.objects.create(version=child, source=link, source_version=str(revoked.pk))

    page = f"/admin/registry/datasetversion/{revoked.pk}/change/"
    response = _browser(team["reviewer"]).post(
        f"/admin/registry/datasetversion/{revoked.pk}/decide/",
        {"action": "revoke", "comment": "membership inference attack INC-9"},
        follow=True,
    )
    assert response.redirect_chain == [(page, 302)]
    html = response.content.decode()
    in_use, retired = children["in-use"], children["retired"]
    assert "Revoke recorded; status is now Revoked." in html
    assert f"Downstream: acme/in-use v{in_use.number} Approved → Needs re-review" in html
    assert f"Downstream: acme/retired v{retired.number} Deprecated: not in use, left as it is" in html
    assert "Downstream: 1 versions in projects you cannot read (1 flagged for re-review)." in html
    assert "theirs" not in html
    # The version page keeps the list of what its revocation flagged, limited to what the reviewer may read.
    assert "Flagged because this version was revoked:" in html
    assert html.count("<td>Approved</td><td>Needs re-review</td>") == 1
    assert "1 more in projects you cannot read." in html
    statuses = {name: type(c).objects.get(pk=c.pk).status for name, c in children.items()}
    assert statuses == {"in-use": "needs_rereview", "retired": "deprecated", "theirs": "needs_rereview"}
