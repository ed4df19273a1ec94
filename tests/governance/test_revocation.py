"""Revoking a version or a source flags everything downstream, over a three-level lineage, once."""

import pytest

from core.audit import verify_chain
from core.models import AuditEvent
from governance.models import ImpactFlag
from registry.models import Evaluation, SourceDataset, VersionSource
from tests.factories import DatasetFactory, DatasetVersionFactory, SourceDatasetFactory
from tests.governance.test_workflow import PASSING, decide, make_version
from tests.support import make_member, staff_client

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
    other_a = make_version(project, user, status="approved", dataset=a.dataset, number=a.number + 1)
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


def test_revocation_flags_other_projects_versions_and_shows_them_only_as_counts(project, other_project, team, lineage):
    # Another team registered the same real table under the same identity and approved a version.
    theirs_source = SourceDatasetFactory(
        project=other_project, namespace="postgres://warehouse", name="public.patients"
    )
    theirs = DatasetVersionFactory(dataset__project=other_project, status="approved", sources=[theirs_source])
    theirs.dataset.current_version = theirs
    theirs.dataset.save()
    response = team["reviewer"].client.post(
        f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "erasure"}, format="json"
    )
    assert response.status_code == 200, response.content
    impact = response.json()["impact"]
    assert (impact["hidden_versions"], impact["hidden_flagged"], impact["hidden_consumers"]) == (1, 1, 0)
    assert [(v["project"], v["dataset"], v["flagged"]) for v in impact["versions"]] == [
        ("acme", "level-a", True),
        ("acme", "level-b", True),
        ("acme", "level-c", True),
    ]
    # A safety downgrade reaches every project: their version needs re-review by their own reviewers.
    theirs.refresh_from_db()
    theirs.dataset.refresh_from_db()
    assert (theirs.status, theirs.dataset.current_version) == ("needs_rereview", None)
    flag = ImpactFlag.objects.get(version=theirs)
    assert (flag.cause_source, flag.previous_status, flag.reason) == (
        lineage["real"],
        "approved",
        "source postgres://warehouse:public.patients was revoked: erasure",
    )
    event = AuditEvent.objects.get(action="version.flagged", object_id=str(theirs.pk))
    assert (event.project_slug, event.before, event.after["status"]) == (
        "other",
        {"status": "approved"},
        "needs_rereview",
    )
    assert verify_chain().ok


def test_revoking_a_version_flags_a_derived_version_in_another_project(project, other_project, team, lineage):
    # Another team generated a version from acme's level-c version (named by its registry identity).
    theirs = make_version(other_project, team["pipeline"].user, dataset=DatasetFactory(project=other_project))
    source = SourceDatasetFactory(project=other_project, namespace="synthetic-registry", name="acme/level-c")
    VersionSource.objects.create(version=theirs, source=source, source_version=str(lineage["c"].pk))
    response = decide(team["reviewer"], lineage["b"], "revoke", comment="INC-8")
    impact = response.json()["impact"]
    assert [(v["dataset"], v["status"]) for v in impact["versions"]] == [("level-c", "needs_rereview")]
    assert (impact["hidden_versions"], impact["hidden_flagged"]) == (1, 1)
    theirs.refresh_from_db()
    assert theirs.status == "needs_rereview"
    assert AuditEvent.objects.filter(action="version.flagged", project_slug="other").count() == 1


def test_a_revocation_that_fails_while_flagging_changes_nothing(project, other_project, team, lineage, monkeypatch):
    from governance import impact

    real_record = impact.record_event

    def fail_on_the_third_flag(**kwargs):
        if kwargs["action"] == "version.flagged" and ImpactFlag.objects.count() == 3:
            raise RuntimeError("database went away")
        return real_record(**kwargs)

    monkeypatch.setattr(impact, "record_event", fail_on_the_third_flag)
    events = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        team["admin"].client.post(f"/api/v1/sources/{lineage['real'].pk}/revoke/", {"reason": "x"}, format="json")
    assert SourceDataset.objects.get(pk=lineage["real"].pk).revoked_at is None
    assert (ImpactFlag.objects.count(), AuditEvent.objects.count()) == (0, events)
    assert _statuses(lineage) == {"a": "approved", "b": "approved", "c": "pending_review", "d": "approved"}


# What an upstream revocation does to a downstream version, by the downstream version's status: versions
# in use or about to be need re-review; versions out of use are reported, not moved (never an upgrade).
AFTER_UPSTREAM_REVOKED = {
    "registered": ("registered", False),
    "evaluating": ("evaluating", False),
    "pending_review": ("needs_rereview", True),
    "approved": ("needs_rereview", True),
    "rejected": ("rejected", False),
    "changes_requested": ("changes_requested", False),
    "deprecated": ("deprecated", False),
    "revoked": ("revoked", False),
    "needs_rereview": ("needs_rereview", True),
}


@pytest.mark.parametrize("status", list(AFTER_UPSTREAM_REVOKED))
def test_revocation_flags_only_versions_in_use_or_pending_review(project, team, lineage, status):
    from tests.governance.test_workflow import ALLOWED_FROM

    user = team["pipeline"].user
    child = _derived(project, user, lineage["a"], status, "child")
    previous = make_version(project, user, status="approved", dataset=child.dataset, number=child.number - 1)
    child.dataset.current_version = child if status == "approved" else previous
    child.dataset.save()
    round_before = child.review_round
    response = decide(team["reviewer"], lineage["a"], "revoke", comment="INC-1")
    entry = next(v for v in response.json()["impact"]["versions"] if v["dataset"] == "child")
    expected_status, flagged = AFTER_UPSTREAM_REVOKED[status]
    assert (entry["previous_status"], entry["status"], entry["flagged"]) == (status, expected_status, flagged)
    child.refresh_from_db()
    child.dataset.refresh_from_db()
    assert child.status == expected_status
    assert ImpactFlag.objects.filter(version=child).count() == int(flagged)
    assert AuditEvent.objects.filter(action="version.flagged", object_id=str(child.pk)).count() == int(flagged)
    # Consumers fall back to the previous approved version only when the current one was flagged.
    assert child.dataset.current_version == previous
    # Entering re-review starts a new review round; staying put keeps the round.
    assert child.review_round == round_before + (status in ("pending_review", "approved"))
    # What may happen next is what the (possibly new) status allows: nothing out of use becomes approvable.
    assert ("approve" in ALLOWED_FROM[child.status]) == (status in ("pending_review", "approved", "needs_rereview"))


def test_a_revoked_version_upstream_does_not_undo_a_rollback(project, team, lineage):
    """A deprecated downstream version stays deprecated, so its dataset keeps pointing at the older version."""
    user = team["pipeline"].user
    child = _derived(project, user, lineage["a"], "approved", "child")
    older = make_version(project, user, status="approved", dataset=child.dataset, number=child.number - 1)
    assert decide(team["reviewer"], child, "deprecate", comment="superseded").status_code == 201
    decide(team["reviewer"], lineage["a"], "revoke", comment="INC-2")
    child.refresh_from_db()
    child.dataset.refresh_from_db()
    assert (child.status, child.dataset.current_version) == ("deprecated", older)
    response = decide(team["reviewer"], child, "approve", comment="back in use?")
    assert response.status_code == 409
    assert response.json()["detail"] == "cannot approve a version in status 'deprecated'"


@pytest.fixture
def flagged(project, team, lineage):
    """lineage's B (was approved) after A was revoked: needs re-review, in a new review round."""
    decide(team["reviewer"], lineage["a"], "revoke", comment="incident")
    lineage["b"].refresh_from_db()
    assert lineage["b"].status == "needs_rereview"
    return lineage["b"]


def test_a_re_review_still_applies_four_eyes(project, team, flagged):
    both = make_member(project, "reviewer", "b-registrant")
    flagged.registered_by = both.user
    flagged.save()
    response = decide(both, flagged, "approve", comment="mine")
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "four-eyes rule: you registered this version, so someone else must approve it"},
    )


def test_a_re_review_still_applies_block_rules(project, team, flagged):
    Evaluation.objects.create(
        version=flagged,
        origin="verified",
        state="succeeded",
        metrics={**PASSING, "privacy.exact_copy_rate": 0.2},
        requested_by=team["pipeline"].user,
    )
    response = decide(team["reviewer"], flagged, "approve", comment="re-reviewed", waiver="accepted")
    assert response.status_code == 409
    assert (
        response.json()["detail"] == "approval is blocked by policy: privacy.exact_copy_rate = 0.2 (must be <= 0.001)"
    )


def test_a_re_review_still_needs_a_waiver_over_warn_rules(project, team, flagged):
    Evaluation.objects.create(
        version=flagged,
        origin="verified",
        state="succeeded",
        metrics={**PASSING, "privacy.dcr_overfitting_protection": 0.24},
        requested_by=team["pipeline"].user,
    )
    response = decide(team["reviewer"], flagged, "approve", comment="re-reviewed")
    assert (response.status_code, response.json()) == (
        400,
        {
            "waiver": [
                "required to approve over failing warn rules: privacy.dcr_overfitting_protection = 0.24 (must be >= 0.3)"
            ]
        },
    )
    done = decide(team["reviewer"], flagged, "approve", comment="re-reviewed", waiver="copula on coarse columns")
    assert (done.status_code, done.json()["decision"]["waiver"]) == (201, "copula on coarse columns")


def test_a_re_review_needs_the_required_approvals_again(project, team, flagged):
    # B was approved once before it was flagged; that approval belongs to an earlier round.
    project.required_approvals = 2
    project.save()
    first = decide(team["reviewer"], flagged, "approve", comment="re-reviewed")
    assert (first.status_code, first.json()["version"]["status"], first.json()["approvals"]) == (
        201,
        "needs_rereview",
        1,
    )
    second = make_member(project, "reviewer", "second")
    done = decide(second, flagged, "approve", comment="re-reviewed too")
    assert (done.json()["version"]["status"], done.json()["approvals"]) == ("approved", 2)
    assert ImpactFlag.objects.get(version=flagged).resolved_by_id == done.json()["decision"]["id"]


def test_a_version_flagged_from_out_of_use_by_older_code_cannot_be_approved(project, team, lineage):
    """Flags written before only in-use versions were flagged: the re-review may not approve them."""
    version = make_version(project, team["pipeline"].user, status="needs_rereview")
    ImpactFlag.objects.create(
        version=version, cause_version=lineage["a"], reason="legacy", previous_status="changes_requested"
    )
    response = decide(team["reviewer"], version, "approve", comment="looks fine")
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": "this version was 'changes_requested' before it was flagged for re-review, so a re-review "
            "cannot approve it: reject it or request changes",
            "status": "needs_rereview",
            "allowed_actions": ["reject", "request_changes", "revoke"],
        },
    )
    assert decide(team["reviewer"], version, "request_changes", comment="re-evaluate").status_code == 201


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
    from core.context import Actor
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


def test_a_project_admin_revokes_a_source_in_the_admin_and_sees_the_impact(project, team, lineage):
    client = staff_client(team["admin"])
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
    client = staff_client(team["pipeline"])
    page = f"/admin/registry/sourcedataset/{lineage['real'].pk}/change/"
    assert 'id="id_reason"' not in client.get(page).content.decode()
    response = client.post(f"/admin/registry/sourcedataset/{lineage['real'].pk}/revoke/", {"reason": "x"}, follow=True)
    assert (
        "Revocation refused: &#x27;revoke&#x27; in project &#x27;acme&#x27; is not allowed" in response.content.decode()
    )
    assert SourceDataset.objects.get(pk=lineage["real"].pk).revoked_at is None
    assert ImpactFlag.objects.count() == 0


def test_the_admin_counts_only_flagged_versions_and_hides_other_projects(project, other_project, team, lineage):
    rejected = make_version(
        project, team["pipeline"].user, status="rejected", dataset=DatasetFactory(project=project, name="dropped")
    )
    VersionSource.objects.create(version=rejected, source=lineage["real"])
    theirs_source = SourceDatasetFactory(
        project=other_project, namespace="postgres://warehouse", name="public.patients"
    )
    theirs = DatasetVersionFactory(
        dataset__project=other_project, dataset__name="theirs", status="approved", sources=[theirs_source]
    )
    client = staff_client(team["admin"])
    response = client.post(
        f"/admin/registry/sourcedataset/{lineage['real'].pk}/revoke/", {"reason": "GDPR erasure #10"}, follow=True
    )
    html = response.content.decode()
    assert (
        "Source postgres://warehouse:public.patients revoked; 3 downstream versions flagged for re-review "
        "(listed below) and 1 more in projects you cannot read." in html
    )
    assert html.count("<td>Needs re-review</td>") == 3
    assert "theirs" not in html
    rejected.refresh_from_db()
    theirs.refresh_from_db()
    assert (rejected.status, theirs.status) == ("rejected", "needs_rereview")
