"""Revoking a version or a source flags everything downstream, over a three-level lineage, once."""

import pytest
from django.test import Client

from governance.audit import verify_chain
from governance.models import AuditEvent, ImpactFlag
from registry.models import SourceDataset, VersionSource
from tests.factories import DatasetFactory, DatasetVersionFactory, SourceDatasetFactory
from tests.governance.test_workflow import decide, make_version
from tests.support import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(project):
    return {role: make_member(project, role, f"r-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}


def _derived(project, registrant, parent, status, name):
    """A version generated from `parent`'s dataset version (registered with it as a source)."""
    source, _ = SourceDataset.objects.get_or_create(
        project=project, namespace="synthetic-registry", name=f"{project.slug}/{parent.dataset.name}"
    )
    version = make_version(project, registrant, status=status, dataset=DatasetFactory(project=project, name=name))
    VersionSource.objects.create(version=version, source=source, source_version=str(parent.pk))
    return version


@pytest.fixture
def lineage(project, team):
    """real source S -> A (approved) -> B (approved) -> C (pending review); D uses another version of A's dataset."""
    user = team["pipeline"].user
    real = SourceDatasetFactory(project=project, namespace="postgres://warehouse", name="public.patients")
    a = make_version(project, user, status="approved", dataset=DatasetFactory(project=project, name="level-a"))
    VersionSource.objects.create(version=a, source=real)
    b = _derived(project, user, a, "approved", "level-b")
    c = _derived(project, user, b, "pending_review", "level-c")
    other_a = make_version(project, user, status="approved", dataset=a.dataset, number=99)
    d = _derived(project, user, other_a, "approved", "unrelated")
    return {"real": real, "a": a, "b": b, "c": c, "d": d}


def _statuses(lineage):
    for version in ("a", "b", "c", "d"):
        lineage[version].refresh_from_db()
    return {k: lineage[k].status for k in ("a", "b", "c", "d")}


def test_revoking_a_version_flags_two_levels_below_it(project, team, lineage):
    response = decide(team["reviewer"], lineage["a"], "revoke", comment="membership inference attack INC-7")
    assert response.status_code == 201, response.content
    impact = response.json()["impact"]
    assert [(v["dataset"], v["depth"], v["previous_status"], v["status"]) for v in impact["versions"]] == [
        ("level-b", 1, "approved", "needs_rereview"),
        ("level-c", 2, "pending_review", "needs_rereview"),
    ]
    assert (impact["hidden_versions"], impact["consumers"]) == (0, [])
    assert _statuses(lineage) == {"a": "revoked", "b": "needs_rereview", "c": "needs_rereview", "d": "approved"}
    flag = ImpactFlag.objects.get(version=lineage["c"])
    assert flag.reason == f"upstream version {lineage['a']} was revoked: membership inference attack INC-7"
    assert (flag.cause_version, flag.previous_status) == (lineage["a"], "pending_review")
    assert AuditEvent.objects.filter(action="version.flagged").count() == 2
    assert verify_chain().ok


def test_revoking_the_real_source_flags_all_three_levels(project, team, lineage):
    response = team["admin"].client.post(
        f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "GDPR Art. 17 erasure request #311"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"]["revocation_reason"] == "GDPR Art. 17 erasure request #311"
    assert [(v["dataset"], v["depth"], v["status"]) for v in body["impact"]["versions"]] == [
        ("level-a", 1, "needs_rereview"),
        ("level-b", 2, "needs_rereview"),
        ("level-c", 3, "needs_rereview"),
    ]
    assert _statuses(lineage) == {
        "a": "needs_rereview",
        "b": "needs_rereview",
        "c": "needs_rereview",
        "d": "approved",
    }
    again = team["admin"].client.post(f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "x"}, format="json")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="source.revoked").count() == 1


def test_a_flagged_version_can_be_re_reviewed_and_its_flags_resolved(project, team, lineage):
    decide(team["reviewer"], lineage["a"], "revoke", comment="incident")
    response = decide(team["reviewer"], lineage["b"], "approve", comment="re-reviewed: generated before the leak")
    assert response.status_code == 201
    flag = ImpactFlag.objects.get(version=lineage["b"])
    assert flag.resolved_by_id == response.json()["decision"]["id"]


def test_revocation_never_changes_another_projects_versions(project, other_project, team, lineage):
    # Another team registered the same real table under the same identity and approved a version.
    theirs_source = SourceDatasetFactory(
        project=other_project, namespace="postgres://warehouse", name="public.patients"
    )
    theirs = DatasetVersionFactory(dataset__project=other_project, status="approved", sources=[theirs_source])
    response = team["reviewer"].client.post(
        f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "erasure"}, format="json"
    )
    impact = response.json()["impact"]
    assert impact["hidden_versions"] == 1  # reported as affected, but neither shown nor changed
    assert "other" not in {v["project"] for v in impact["versions"]}
    assert {v["flagged"] for v in impact["versions"]} == {True}
    theirs.refresh_from_db()
    assert theirs.status == "approved"
    assert not ImpactFlag.objects.filter(version=theirs).exists()


def test_a_revoked_source_cannot_feed_new_versions_or_approvals(project, team, lineage, adult_head_csv):
    from tests.support import registration_form, upload

    team["admin"].client.post(f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "erasure"}, format="json")
    form = registration_form(sources='[{"namespace": "postgres://warehouse", "name": "public.patients"}]')
    response = team["pipeline"].client.post(
        "/api/v1/versions/", {**form, "file": upload(adult_head_csv)}, format="multipart"
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith("source postgres://warehouse:public.patients was revoked on ")
    response = decide(team["reviewer"], lineage["a"], "approve", comment="still fine?")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "a source of this version was revoked (postgres://warehouse:public.patients): it can only be rejected or revoked"
    )


def test_re_evaluating_a_flagged_version_keeps_it_flagged(project, team, lineage):
    from governance.context import Actor
    from governance.workflow import version_system_transition

    decide(team["reviewer"], lineage["a"], "revoke", comment="incident")
    b = lineage["b"]
    for event in ("evaluation_started", "evaluation_failed", "evaluation_succeeded"):
        version_system_transition(actor=Actor.system("test"), version=b, event=event)
        b.refresh_from_db()
        assert b.status == "needs_rereview", event


def _link(project, version, parent):
    source, _ = SourceDataset.objects.get_or_create(
        project=project, namespace="synthetic-registry", name=f"{project.slug}/{parent.dataset.name}"
    )
    VersionSource.objects.create(version=version, source=source, source_version=str(parent.pk))


def test_a_cycle_in_the_lineage_is_visited_once(project, team):
    user = team["pipeline"].user
    x1 = make_version(project, user, status="approved", dataset=DatasetFactory(project=project, name="x"), number=1)
    z1 = make_version(project, user, status="approved", dataset=DatasetFactory(project=project, name="z"), number=1)
    y1 = make_version(project, user, status="approved", dataset=DatasetFactory(project=project, name="y"), number=1)
    x2 = make_version(project, user, status="approved", dataset=x1.dataset, number=2)
    _link(project, z1, x1)  # z1 generated from x1
    _link(project, y1, z1)  # y1 generated from z1 ...
    _link(project, y1, x2)  # ... and from x2
    _link(project, x2, y1)  # x2 generated from y1: a cycle y1 -> x2 -> y1
    response = decide(team["reviewer"], x1, "revoke", comment="incident")
    assert response.status_code == 201
    assert [(v["dataset"], v["number"], v["depth"]) for v in response.json()["impact"]["versions"]] == [
        ("z", 1, 1),
        ("y", 1, 2),
        ("x", 2, 3),
    ]


def test_only_reviewers_and_admins_revoke_sources(project, team, lineage):
    response = team["pipeline"].client.post(
        f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "'revoke' in project 'acme' is not allowed: your roles there (pipeline)"}
    blank = team["admin"].client.post(f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": " "}, format="json")
    assert (blank.status_code, blank.json()) == (400, {"reason": ["a reason is required to revoke"]})
    assert SourceDataset.objects.get(pk=lineage["real"].pk).revoked_at is None


def _staff_client(member):
    member.user.is_staff = True
    member.user.save()
    client = Client()
    client.force_login(member.user)
    return client


def test_a_project_admin_revokes_a_source_in_the_admin_and_sees_the_impact(project, team, lineage):
    client = _staff_client(team["admin"])
    page = f"/admin/registry/sourcedataset/{lineage['real'].pk}/change/"
    assert 'id="id_reason"' in client.get(page).content.decode()
    response = client.post(
        f"/admin/registry/sourcedataset/{lineage['real'].pk}/revoke/", {"reason": "GDPR erasure #9"}, follow=True
    )
    assert response.redirect_chain == [(page, 302)]
    html = response.content.decode()
    assert (
        "Source postgres://warehouse:public.patients revoked; 3 downstream versions flagged for re-review "
        "(listed below)." in html
    )
    assert "GDPR erasure #9" in html
    assert html.count("<td>Approved</td><td>Needs re-review</td>") == 2
    assert "<td>Pending review</td><td>Needs re-review</td>" in html
    assert _statuses(lineage) == {"a": "needs_rereview", "b": "needs_rereview", "c": "needs_rereview", "d": "approved"}


def test_the_admin_revoke_form_is_refused_to_a_pipeline(project, team, lineage):
    client = _staff_client(team["pipeline"])
    page = f"/admin/registry/sourcedataset/{lineage['real'].pk}/change/"
    assert 'id="id_reason"' not in client.get(page).content.decode()
    response = client.post(f"/admin/registry/sourcedataset/{lineage['real'].pk}/revoke/", {"reason": "x"}, follow=True)
    assert (
        "Revocation refused: &#x27;revoke&#x27; in project &#x27;acme&#x27; is not allowed" in response.content.decode()
    )
    assert SourceDataset.objects.get(pk=lineage["real"].pk).revoked_at is None
    assert ImpactFlag.objects.count() == 0
