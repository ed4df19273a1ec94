"""The demo command: real generator, real registrations, idempotent on a second run."""

import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from governance.audit import verify_chain
from governance.models import AuditEvent, Membership
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


def test_demo_registers_users_and_two_versions_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    out = StringIO()
    call_command("demo", stdout=out)
    versions = list(DatasetVersion.objects.order_by("number"))
    assert [(v.dataset.name, v.number, v.status, v.row_count, v.column_count) for v in versions] == [
        ("adult-income-synthetic", 1, "registered", 26121, 15),
        ("adult-income-synthetic", 2, "registered", 26121, 15),
    ]
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
