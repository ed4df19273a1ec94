"""The demo command: real generator, real registrations, idempotent on a second run."""

import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from core.audit import verify_chain
from core.context import Actor
from core.errors import NotPermitted
from core.models import AuditEvent, Membership
from governance.models import Decision
from governance.revocations import source_dataset_revoke
from governance.workflow import version_decide
from registry.demo.data import build_demo_tables, split_adult
from registry.models import DatasetVersion, SourceDataset

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tables():
    return build_demo_tables()


def test_split_and_leaky_version_have_the_planned_shape(tables, adult):
    train, holdout = split_adult(adult)
    assert (len(train), len(holdout)) == (26121, 6440)
    assert len(tables.faithful) == len(tables.leaky) == len(train)
    keys = list(train.columns)
    exact_in_leaky = tables.leaky.merge(train.drop_duplicates(), on=keys, how="inner")
    exact_in_faithful = tables.faithful.merge(train.drop_duplicates(), on=keys, how="inner")
    # 40% planted copies (a few more rows also happen to duplicate each other in the real data).
    assert len(exact_in_leaky) >= int(0.4 * len(train))
    assert len(exact_in_faithful) < 0.01 * len(train)


@pytest.mark.django_db(transaction=True)
def test_demo_registers_evaluates_reviews_and_is_idempotent(settings, tmp_path):
    # Real commits, as in `make run`: each evaluation runs (eagerly) as soon as its request commits.
    settings.VAR_DIR = tmp_path / "var"
    out = StringIO()
    call_command("demo", stdout=out)
    versions = list(DatasetVersion.objects.order_by("number"))
    assert [(v.dataset.name, v.number, v.status, v.row_count, v.column_count) for v in versions] == [
        ("adult-income-synthetic", 1, "approved", 26121, 15),
        ("adult-income-synthetic", 2, "pending_review", 26121, 15),
    ]
    # The faithful version passes every default rule: the reviewer approved it without a waiver.
    approval = Decision.objects.get(version=versions[0])
    assert (approval.action, approval.decided_by.username) == ("approve", "demo-reviewer")
    assert approval.waived_rules == []
    check = versions[0].policy_checks.latest()
    assert [(o["metric"], o["verdict"]) for o in check.outcomes if o["verdict"] != "pass"] == []
    # The leaky one cannot be approved: independent block rules say why (copies, singling out, near copies,
    # proximity to the training rows, membership inference).
    blocking = versions[1].policy_checks.latest().failing("block")
    assert [(o["metric"], o["verdict"]) for o in blocking] == [
        ("privacy.exact_copy_rate", "fail"),
        ("privacy.singling_out", "fail"),
        ("privacy.near_copy_excess", "fail"),
        ("privacy.dcr_share", "fail"),
        ("privacy.membership_auc", "fail"),
    ]
    faithful, leaky = (v.evaluations.get(origin="verified", state="succeeded") for v in versions)
    # The faithful version copies no real row; the leaky one copies 40% of them and sits on top of them.
    assert faithful.metrics["privacy.exact_copies"] == 0
    assert leaky.metrics["privacy.exact_copies"] >= int(0.4 * 26121)
    assert leaky.metrics["privacy.dcr_baseline_protection"] < 0.01 < faithful.metrics["privacy.dcr_baseline_protection"]
    assert abs(faithful.metrics["privacy.dcr_share"] - 0.5) < 0.05 < leaky.metrics["privacy.dcr_share"] - 0.5
    assert abs(faithful.metrics["privacy.membership_auc"] - 0.5) < 0.05 < leaky.metrics["privacy.membership_auc"] - 0.5
    assert faithful.metrics["quality.overall"] > 0.85
    assert {"utility.tstr", "fairness.max_tvd", "privacy.disclosure_protection"} <= set(faithful.metrics)
    assert faithful.reference_rows == 26121 and faithful.holdout_rows == 6440
    assert versions[1].generator_parameters["post_processing"] == "oversample_training_rows"
    assert {v.registered_by.username for v in versions} == {"demo-pipeline"}
    source = SourceDataset.objects.get()
    assert (source.namespace, source.name, source.contains_personal_data) == (
        "uci-ml-repository",
        "adult",
        True,
    )
    assert sorted(Membership.objects.values_list("user__username", "role")) == [
        ("demo-admin", "admin"),
        ("demo-auditor", "auditor"),
        ("demo-pipeline", "pipeline"),
        ("demo-reviewer", "reviewer"),
    ]
    credentials = json.loads((settings.VAR_DIR / "demo-credentials.json").read_text())
    assert set(credentials["passwords"]) == {"demo-pipeline", "demo-reviewer", "demo-auditor", "demo-admin"}
    assert credentials["pipeline_token"] in out.getvalue()
    stored = pd.read_csv(settings.REGISTRY_STORAGE_ROOT / versions[0].stored_file)
    assert stored.shape == (26121, 15)

    events = AuditEvent.objects.count()
    again = StringIO()
    call_command("demo", stdout=again)
    assert DatasetVersion.objects.count() == 2
    assert AuditEvent.objects.count() == events
    assert "already registered" in again.getvalue()
    assert verify_chain().ok

    # The pipeline cannot approve what it registered; revoking the Adult source flags both versions.
    pipeline = Actor(user=versions[0].registered_by, via="test")
    with pytest.raises(NotPermitted):
        version_decide(actor=pipeline, version=versions[1], action="approve")
    admin = Actor(user=Membership.objects.get(role="admin").user, via="test")
    outcome = source_dataset_revoke(actor=admin, source=source, reason="GDPR erasure request (demo)")
    assert [(item["number"], item["previous_status"], item["status"]) for item in outcome.flagged] == [
        (1, "approved", "needs_rereview"),
        (2, "pending_review", "needs_rereview"),
    ]
    assert verify_chain().ok
