"""The review workflow through the API: every state x action x role, four-eyes, policy gates, approvals."""

import pytest

from core.audit import verify_chain
from core.models import ApiToken, AuditEvent
from governance.default_policy import DEFAULT_RULES
from governance.models import Decision, PolicyCheck
from registry.models import Evaluation, VersionStatus
from tests.factories import DatasetVersionFactory, MembershipFactory
from tests.support import make_member

pytestmark = pytest.mark.django_db

# Metrics that pass every rule of the default release policy.
PASSING = {
    "quality.overall": 0.91,
    "diagnostic.overall": 1.0,
    "diagnostic.type_conformance": 1.0,
    "privacy.exact_copy_rate": 0.0,
    "privacy.exact_copies": 0,
    "privacy.singling_out": 0.0,
    "privacy.near_copy_excess": -0.01,
    "privacy.dcr_share": 0.51,
    "privacy.membership_auc": 0.5,
    "privacy.membership_tpr_at_fpr_1pct": 0.011,
    "privacy.membership_max_group_auc": 0.52,
    "privacy.nndr_p10_ratio": 1.1,
    "privacy.inference_advantage": 0.004,
    "privacy.dcr_baseline_protection": 0.62,
    "privacy.dcr_overfitting_protection": 0.9,
    "privacy.disclosure_protection": 0.8,
    "pii.columns": 0,
    "pii.replayed_values": 0,
    "pii.free_text_columns": 0,
    "fairness.max_tvd": 0.01,
    "fairness.flagged_slices": 0,
    "evidence.reference_is_declared_source": 1,
}
STATUSES = list(VersionStatus.values)
ACTIONS = ["approve", "reject", "request_changes", "deprecate", "revoke"]
ALLOWED = {
    "approve": {"pending_review": "approved", "needs_rereview": "approved"},
    "reject": {"pending_review": "rejected", "needs_rereview": "rejected"},
    "request_changes": {"pending_review": "changes_requested", "needs_rereview": "changes_requested"},
    "deprecate": {"approved": "deprecated"},
    "revoke": {"approved": "revoked", "deprecated": "revoked", "needs_rereview": "revoked"},
}
ALLOWED_FROM = {status: [action for action in ACTIONS if status in ALLOWED[action]] for status in STATUSES}
# Which roles may take which action at all. The registrant is a reviewer who registered the version
# (four-eyes); the outsider has no role in the project, so the version does not exist for it.
MAY = {
    "pipeline": set(),
    "auditor": set(),
    "reviewer": set(ACTIONS),
    "admin": {"deprecate", "revoke"},
    "registrant": set(ACTIONS),
}
ROLES = ["pipeline", "reviewer", "auditor", "admin", "registrant", "outsider"]


def make_version(project, registrant, status="pending_review", metrics=PASSING, **kwargs):
    version = DatasetVersionFactory(dataset__project=project, status=status, registered_by=registrant, **kwargs)
    Evaluation.objects.create(
        version=version, origin="verified", state="succeeded", metrics=dict(metrics), requested_by=registrant
    )
    return version


def decide(member, version, action, comment="", waiver=""):
    body = {"action": action, "comment": comment, "waiver": waiver}
    return member.client.post(f"/api/v1/versions/{version.pk}/decisions/", body, format="json")


@pytest.fixture
def team(project):
    return {role: make_member(project, role, f"t-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}


@pytest.fixture
def table_team(team, project, other_project):
    return {
        **team,
        "registrant": make_member(project, "reviewer", "t-registrant"),
        "outsider": make_member(other_project, "reviewer", "t-outsider"),
    }


def _expected(status, action, role):
    """(HTTP status, body or None, new version status) for one cell of the transition table."""
    if role == "outsider":
        return 404, {"detail": "No DatasetVersion matches the given query."}, status
    if action not in MAY[role]:
        return 403, {"detail": f"'{action}' in project 'acme' is not allowed: your roles there ({role})"}, status
    if status not in ALLOWED[action]:
        body = {
            "detail": f"cannot {action.replace('_', ' ')} a version in status '{status}'",
            "status": status,
            "allowed_actions": ALLOWED_FROM[status],
        }
        return 409, body, status
    if role == "registrant" and action == "approve":
        return 403, {"detail": "four-eyes rule: you registered this version, so someone else must approve it"}, status
    return 201, None, ALLOWED[action][status]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_transition_table(project, table_team, status, action, role):
    registrant = table_team["registrant" if role == "registrant" else "pipeline"].user
    version = make_version(project, registrant, status=status)
    events = AuditEvent.objects.count()
    response = decide(table_team[role], version, action, comment="checked the evidence")
    version.refresh_from_db()
    code, body, new_status = _expected(status, action, role)
    assert response.status_code == code, response.content
    assert version.status == new_status
    if code == 201:
        assert response.json()["version"] == {"id": str(version.pk), "status": new_status}
        decision = Decision.objects.get(version=version)
        assert (decision.action, decision.from_status, decision.to_status) == (action, status, new_status)
        assert AuditEvent.objects.filter(action=f"version.{action}", object_id=str(version.pk)).count() == 1
        return
    # Refused: nothing changed.
    assert response.json() == body
    assert Decision.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [
        ("reject", "comment", "a comment is required to reject"),
        ("request_changes", "comment", "a comment is required to request changes"),
        ("revoke", "comment", "a reason is required to revoke"),
    ],
)
def test_reject_request_changes_and_revoke_need_a_comment(project, team, action, field, message):
    status = "approved" if action == "revoke" else "pending_review"
    version = make_version(project, team["pipeline"].user, status=status)
    response = decide(team["reviewer"], version, action, comment="   ")
    assert (response.status_code, response.json()) == (400, {field: [message]})


def test_four_eyes_with_a_token(project, team):
    # One person holding both roles registers through a token, then tries to approve with the same user.
    both = make_member(project, "pipeline", "both", bind_token=False)
    MembershipFactory(project=project, user=both.user, role="reviewer")
    version = make_version(project, both.user)
    response = decide(both, version, "approve", comment="mine")
    assert response.status_code == 403
    assert response.json() == {"detail": "four-eyes rule: you registered this version, so someone else must approve it"}
    assert decide(team["reviewer"], version, "approve").status_code == 201


def test_four_eyes_with_a_session(project, team):
    from rest_framework.test import APIClient

    both = make_member(project, "reviewer", "both2")
    version = make_version(project, both.user)
    client = APIClient()
    client.force_authenticate(user=both.user)
    response = client.post(f"/api/v1/versions/{version.pk}/decisions/", {"action": "approve"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("four-eyes rule")


def test_four_eyes_on_a_version_registered_and_evaluated_through_the_api(
    project, team, adult, django_capture_on_commit_callbacks
):
    """Not a factory-set registrant: the pipeline's token registers it, so the token's user may not approve."""
    from rest_framework.test import APIClient

    from registry.models import DatasetVersion
    from tests.support import registration_form, upload

    both = make_member(project, "pipeline", "pipe-and-reviewer")
    MembershipFactory(project=project, user=both.user, role="reviewer")
    synthetic, reference, holdout = adult.iloc[:300], adult.iloc[300:700], adult.iloc[700:1000]
    created = both.client.post(
        "/api/v1/versions/",
        {**registration_form(), "file": upload(synthetic.to_csv(index=False).encode())},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    version = DatasetVersion.objects.get(pk=created.json()["id"])
    token = ApiToken.objects.get(user=both.user)
    assert (version.registered_by, version.registered_via) == (both.user, f"token:{token.prefix}")
    with django_capture_on_commit_callbacks(execute=True):
        evaluated = both.client.post(
            f"/api/v1/versions/{version.pk}/evaluations/",
            {
                "reference": upload(reference.to_csv(index=False).encode(), "real.csv"),
                "holdout": upload(holdout.to_csv(index=False).encode(), "holdout.csv"),
                "seed": "1",
            },
            format="multipart",
        )
    assert evaluated.status_code == 202, evaluated.content
    version.refresh_from_db()
    assert version.status == "pending_review"

    four_eyes = {"detail": "four-eyes rule: you registered this version, so someone else must approve it"}
    by_token = decide(both, version, "approve", comment="mine", waiver="mine")
    assert (by_token.status_code, by_token.json()) == (403, four_eyes)
    session = APIClient()
    session.force_authenticate(user=both.user)
    by_session = session.post(f"/api/v1/versions/{version.pk}/decisions/", {"action": "approve"}, format="json")
    assert (by_session.status_code, by_session.json()) == (403, four_eyes)
    version.refresh_from_db()
    assert (version.status, Decision.objects.count(), PolicyCheck.objects.filter(trigger="decision").count()) == (
        "pending_review",
        0,
        0,
    )
    # Someone else may approve it (the real evidence fails warn rules, hence the waiver).
    other = decide(team["reviewer"], version, "approve", comment="reviewed", waiver="accepted")
    assert (other.status_code, other.json()["version"]["status"]) == (201, "approved")


def test_block_rule_makes_approval_impossible_and_names_the_rules(project, team):
    leaky = {
        **PASSING,
        "privacy.exact_copy_rate": 0.4013,
        "privacy.exact_copies": 10483,
        "privacy.dcr_share": 0.745,
    }
    version = make_version(project, team["pipeline"].user, metrics=leaky)
    response = decide(team["reviewer"], version, "approve", waiver="we accept the risk")
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == (
        "approval is blocked by policy: privacy.exact_copy_rate = 0.4013 (must be <= 0.001); "
        "privacy.dcr_share = 0.745 (must be <= 0.6)"
    )
    assert [(r["metric"], r["severity"], r["verdict"]) for r in body["blocking_rules"]] == [
        ("privacy.exact_copy_rate", "block", "fail"),
        ("privacy.dcr_share", "block", "fail"),
    ]
    version.refresh_from_db()
    assert version.status == "pending_review"
    assert Decision.objects.count() == 0
    assert PolicyCheck.objects.get(pk=body["policy_check"]).verdict == "block"  # the refusal's evidence is kept


def test_a_missing_metric_is_not_evaluated_never_a_pass(project, team):
    metrics = {k: v for k, v in PASSING.items() if k != "pii.columns"}
    version = make_version(project, team["pipeline"].user, metrics=metrics)
    response = decide(team["reviewer"], version, "approve")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "approval is blocked by policy: pii.columns not evaluated (must be == 0; the evaluation did not include pii)"
    )


def test_warn_rule_needs_a_waiver_which_is_recorded(project, team):
    metrics = {**PASSING, "privacy.dcr_overfitting_protection": 0.24, "fairness.flagged_slices": 3}
    version = make_version(project, team["pipeline"].user, metrics=metrics)
    response = decide(team["reviewer"], version, "approve")
    assert response.status_code == 400
    assert response.json() == {
        "waiver": [
            "required to approve over failing warn rules: privacy.dcr_overfitting_protection = 0.24 (must be >= 0.3); "
            "fairness.flagged_slices = 3 (must be == 0)"
        ]
    }
    waiver = "Copula on coarse census columns; the three small slices are documented as limitations."
    response = decide(team["reviewer"], version, "approve", comment="ok", waiver=waiver)
    assert response.status_code == 201
    decision = Decision.objects.get(version=version)
    assert decision.waiver == waiver
    assert [r["metric"] for r in decision.waived_rules] == [
        "privacy.dcr_overfitting_protection",
        "fairness.flagged_slices",
    ]
    assert response.json()["decision"]["waiver"] == waiver
    event = AuditEvent.objects.get(action="version.approve")
    assert event.after["waiver"] == waiver
    assert event.after["waived_rules"] == [
        "privacy.dcr_overfitting_protection = 0.24 (must be >= 0.3)",
        "fairness.flagged_slices = 3 (must be == 0)",
    ]


def test_waiver_on_anything_but_an_approval_is_refused(project, team):
    version = make_version(project, team["pipeline"].user)
    response = decide(team["reviewer"], version, "reject", comment="no", waiver="why")
    assert (response.status_code, response.json()) == (400, {"waiver": ["a waiver only applies to an approval"]})


def test_n_distinct_approvals(project, team):
    project.required_approvals = 2
    project.save()
    second = make_member(project, "reviewer", "second-reviewer")
    version = make_version(project, team["pipeline"].user)
    first = decide(team["reviewer"], version, "approve")
    assert first.status_code == 201
    assert (first.json()["version"]["status"], first.json()["approvals"], first.json()["required_approvals"]) == (
        "pending_review",
        1,
        2,
    )
    again = decide(team["reviewer"], version, "approve")
    assert again.status_code == 409
    assert again.json() == {
        "detail": "you already approved this version in this review round; another reviewer must approve too"
    }
    done = decide(second, version, "approve")
    assert (done.status_code, done.json()["version"]["status"], done.json()["approvals"]) == (201, "approved", 2)


def test_rollback_points_consumers_to_the_previous_approved_version(project, team):
    v1 = make_version(project, team["pipeline"].user, status="approved", number=1)
    dataset = v1.dataset
    v2 = make_version(project, team["pipeline"].user, dataset=dataset, number=2)
    assert decide(team["reviewer"], v2, "approve").status_code == 201
    dataset.refresh_from_db()
    assert dataset.current_version == v2
    assert decide(team["reviewer"], v2, "deprecate", comment="superseded by a bug fix").status_code == 201
    dataset.refresh_from_db()
    assert dataset.current_version == v1
    assert decide(team["admin"], v1, "revoke", comment="privacy incident INC-42").status_code == 201
    dataset.refresh_from_db()
    assert dataset.current_version is None
    body = team["pipeline"].client.get(f"/api/v1/datasets/{dataset.pk}/").json()
    assert body["current_version"] is None


def test_policy_checks_are_listed_and_can_run_on_demand(project, team):
    version = make_version(project, team["pipeline"].user)
    response = team["pipeline"].client.post(f"/api/v1/versions/{version.pk}/policy-checks/")
    assert response.status_code == 201
    body = response.json()
    assert (body["verdict"], body["trigger"]) == ("pass", "manual")
    assert len(body["outcomes"]) == len(DEFAULT_RULES)
    assert body["policies"][0]["name"] == "Default release policy"
    listed = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/policy-checks/").json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert team["auditor"].client.post(f"/api/v1/versions/{version.pk}/policy-checks/").status_code == 403
    assert verify_chain().ok


def test_decisions_are_listed_with_waivers(project, team):
    version = make_version(project, team["pipeline"].user)
    decide(team["reviewer"], version, "request_changes", comment="add a holdout")
    listed = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/decisions/").json()
    assert [(d["action"], d["comment"], d["decided_by"], d["from_status"], d["to_status"]) for d in listed] == [
        ("request_changes", "add a holdout", "t-reviewer", "pending_review", "changes_requested")
    ]
    assert PolicyCheck.objects.count() == 0  # only approvals run a fresh check


@pytest.mark.parametrize(
    ("role", "body", "status", "expected"),
    [
        ("admin", {"required_approvals": 2}, 200, None),
        ("reviewer", {"required_approvals": 2}, 403, {"detail": "changing project 'acme' needs the admin role"}),
        (
            "admin",
            {"required_approvals": 0},
            400,
            {"required_approvals": ["Ensure this value is greater than or equal to 1."]},
        ),
        ("admin", {"slug": "new"}, 400, {"slug": ["Unknown field."]}),
    ],
)
def test_project_settings_through_the_api(project, team, role, body, status, expected):
    response = team[role].client.patch("/api/v1/projects/acme/", body, format="json")
    assert response.status_code == status
    if expected is not None:
        assert response.json() == expected
    project.refresh_from_db()
    assert project.required_approvals == (2 if status == 200 else 1)


def test_approval_checks_the_evidence_that_finished_while_it_waited_for_the_lock(project, team, monkeypatch):
    """An evaluation that lands between the request's start and the version lock is part of the check."""
    import contextlib

    from governance import workflow

    version = make_version(project, team["pipeline"].user)  # passing evidence so far
    real_atomic = workflow.audited_atomic

    @contextlib.contextmanager
    def evaluation_lands_first():
        Evaluation.objects.create(
            version=version,
            origin="verified",
            state="succeeded",
            metrics={**PASSING, "privacy.exact_copies": 12, "privacy.exact_copy_rate": 0.04},
            requested_by=team["pipeline"].user,
        )
        with real_atomic():
            yield

    monkeypatch.setattr(workflow, "audited_atomic", evaluation_lands_first)
    response = decide(team["reviewer"], version, "approve", comment="looked fine a second ago")
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == (
        "approval is blocked by policy: privacy.exact_copy_rate = 0.04 (must be <= 0.001)"
    )
    version.refresh_from_db()
    assert (version.status, Decision.objects.count()) == ("pending_review", 0)
    # The refusal keeps the check it was refused on, and that check saw the new evaluation.
    check = PolicyCheck.objects.get(pk=response.json()["policy_check"])
    assert (check.verdict, check.evaluation.metrics["privacy.exact_copies"]) == ("block", 12)
    assert verify_chain().ok
