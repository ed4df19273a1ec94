"""Migration 0010: an unmodified default policy v1 becomes v2 (audited, chain intact); a changed one is left alone."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from core.audit import verify_chain
from core.models import AuditEvent
from governance.default_policy import DEFAULT_POLICY_NAME, DEFAULT_RULES
from governance.models import Policy, PolicyRule

upgrade = importlib.import_module("governance.migrations.0010_default_policy_v2")


def _set_rules(policy: Policy, rules) -> None:
    PolicyRule.objects.filter(policy=policy).delete()
    PolicyRule.objects.bulk_create(
        PolicyRule(policy=policy, position=i, metric=m, operator=o, threshold=t, severity=s, explanation=e)
        for i, (m, o, t, s, e) in enumerate(rules)
    )


def _rules(policy: Policy) -> list[tuple]:
    return [
        (r.metric, r.operator, r.threshold, r.severity, r.explanation)
        for r in PolicyRule.objects.filter(policy=policy).order_by("position")
    ]


def _run_migration() -> None:
    # RunPython hands forwards() the schema editor; only its connection is read.
    upgrade.forwards(apps, SimpleNamespace(connection=connection))


@pytest.mark.django_db
def test_unmodified_v1_becomes_v2_with_an_audited_event():
    policy = Policy.objects.get(project=None, name=DEFAULT_POLICY_NAME)
    _set_rules(policy, upgrade.V1_RULES)
    version = policy.version
    events = AuditEvent.objects.count()

    _run_migration()

    policy.refresh_from_db()
    assert policy.version == version + 1
    assert _rules(policy) == [tuple(rule) for rule in DEFAULT_RULES]
    event = AuditEvent.objects.order_by("-sequence").first()
    assert AuditEvent.objects.count() == events + 1
    assert (event.action, event.actor_via, event.object_id) == ("policy.updated", "migration", str(policy.pk))
    assert '"privacy.dcr_baseline_protection"' in event.before_json
    assert '"privacy.membership_auc"' in event.after_json
    assert verify_chain().ok
    # Running it again changes nothing: the policy is version 2 already.
    _run_migration()
    assert AuditEvent.objects.count() == events + 1


@pytest.mark.django_db
def test_a_policy_changed_by_a_superuser_is_left_alone():
    policy = Policy.objects.get(project=None, name=DEFAULT_POLICY_NAME)
    changed = [*upgrade.V1_RULES[:-1], ("quality.overall", ">=", 0.75, "warn", "Stricter in this organisation.")]
    _set_rules(policy, changed)
    version, events = policy.version, AuditEvent.objects.count()
    _run_migration()
    policy.refresh_from_db()
    assert (policy.version, _rules(policy), AuditEvent.objects.count()) == (version, changed, events)
