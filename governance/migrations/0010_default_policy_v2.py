"""The default release policy, version 2: privacy rules that cannot be evaded, calibrated on real data.

Replaces the rules of an unmodified version 1 (a policy a superuser changed is left alone), as the next
version of the same policy: checks made before keep their snapshot of version 1. The change is recorded in
the audit trail like any policy change (action ``policy.updated``, actor ``migration``).

Added: diagnostic.type_conformance, privacy.singling_out, privacy.near_copy_excess, privacy.dcr_share and
privacy.membership_auc (block); membership at low FPR, per group, NNDR, inference advantage and
pii.free_text_columns (warn). Removed: privacy.dcr_baseline_protection (block 0.1 and warn 0.3) and
privacy.exact_copies == 0 (warn): on UCI Adult a random half of the real table scores 0.035 on DCR baseline
protection and has chance duplicates, so those rules failed genuine data; the holdout-based rules above
measure memorisation against what fresh real records look like instead.
"""

from django.db import migrations
from django.utils import timezone

from core.audit import GENESIS_HASH, canonical_json, event_hash
from governance.default_policy import DEFAULT_POLICY_NAME, DEFAULT_RULES

# fmt: off
V1_RULES = [
    ("quality.overall", ">=", 0.7, "block",
     "Below 0.7 the synthetic table misrepresents the real distributions or their relationships badly enough "
     "to mislead models and analyses built on it (sdmetrics QualityReport)."),
    ("diagnostic.overall", ">=", 0.9, "block",
     "Values outside the real data's ranges or categories, or a broken table structure (sdmetrics "
     "DiagnosticReport)."),
    ("privacy.exact_copy_rate", "<=", 0.001, "block",
     "More than 0.1% of synthetic rows are verbatim copies of real records; each copy discloses a real "
     "person's full record (singling out, WP29 Opinion 05/2014)."),
    ("privacy.dcr_baseline_protection", ">=", 0.1, "block",
     "Synthetic rows sit far closer to real records than random data would: the generator memorised its "
     "training data (sdmetrics DCRBaselineProtection)."),
    ("pii.columns", "==", 0, "block",
     "Columns holding direct identifiers (e-mail, phone, national id, card number, IBAN, IP address) must be "
     "removed or replaced before release."),
    ("pii.replayed_values", "==", 0, "block",
     "Identifier values copied from the real data re-identify people directly."),
    ("quality.overall", ">=", 0.8, "warn",
     "Fidelity between 0.7 and 0.8 is usable for testing but weak for modelling: read the per-column scores."),
    ("privacy.exact_copies", "==", 0, "warn",
     "Even a few exact copies need an explanation (tables with few, coarse columns produce chance matches)."),
    ("privacy.dcr_baseline_protection", ">=", 0.3, "warn",
     "Synthetic rows are noticeably closer to real records than random data: check near-copies of rare "
     "records."),
    ("privacy.dcr_overfitting_protection", ">=", 0.3, "warn",
     "Synthetic rows are closer to the training rows than to unseen holdout rows, a sign of overfitting "
     "(not evaluated without a holdout)."),
    ("privacy.disclosure_protection", ">=", 0.5, "warn",
     "Knowing the quasi-identifiers, an attacker guesses the sensitive columns too often (CAP; not evaluated "
     "without declared quasi-identifiers and sensitive columns)."),
    ("fairness.max_tvd", "<=", 0.1, "warn",
     "The distribution of a sensitive attribute drifts by more than 0.1 total variation distance (not "
     "evaluated without declared sensitive attributes)."),
    ("fairness.flagged_slices", "==", 0, "warn",
     "Some groups of a sensitive attribute are missing, under-represented or markedly less faithful than the "
     "whole table (EU AI Act Art. 10(2)(f)-(h))."),
    ("evidence.reference_is_declared_source", "==", 1, "warn",
     "The real data the registry evaluated against is not a declared source of this version (or no source "
     "declares its fingerprint): the evidence may not describe the data the generator learned from."),
]  # fmt: skip
# fmt: on


def _snapshot(policy, rules):
    return {
        "id": policy.pk,
        "name": policy.name,
        "version": policy.version,
        "project": None,
        "rules": [
            {"metric": m, "operator": o, "threshold": float(t), "severity": s, "explanation": e}
            for m, o, t, s, e in rules
        ],
    }


def _record(apps, using, policy, before, after):
    """Append policy.updated to the hash chain as core.audit.record_event does, with its hash function."""
    head_model = apps.get_model("core", "AuditHead")
    event_model = apps.get_model("core", "AuditEvent")
    head = head_model.objects.using(using).select_for_update().filter(pk=1).first()
    if head is None:
        head = head_model.objects.using(using).create(pk=1, sequence=0, hash=GENESIS_HASH)
    event = event_model(
        sequence=head.sequence + 1,
        occurred_at=timezone.now(),
        actor_user_id=None,
        actor_username="",
        actor_via="migration",
        action="policy.updated",
        object_type="governance.policy",
        object_id=str(policy.pk),
        object_repr=f"{policy.name} v{policy.version} (global)"[:255],
        project_id=None,
        project_slug="",
        before_json=canonical_json(before),
        after_json=canonical_json(after),
        request_id="",
        client_ip="",
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    event.save(using=using, force_insert=True)
    head_model.objects.using(using).filter(pk=1).update(sequence=event.sequence, hash=event.hash)


def forwards(apps, schema_editor):
    using = schema_editor.connection.alias
    policy_model = apps.get_model("governance", "Policy")
    rule_model = apps.get_model("governance", "PolicyRule")
    policy = policy_model.objects.using(using).filter(project=None, name=DEFAULT_POLICY_NAME).first()
    if policy is None:
        return
    stored = [
        (r.metric, r.operator, r.threshold, r.severity, r.explanation)
        for r in rule_model.objects.using(using).filter(policy=policy).order_by("position", "id")
    ]
    if stored != [tuple(rule) for rule in V1_RULES] or stored == [tuple(rule) for rule in DEFAULT_RULES]:
        return  # already version 2 (a new database), or changed by a superuser: left as it is
    before = _snapshot(policy, stored)
    policy.version += 1
    policy.save(update_fields=["version", "updated_at"])
    rule_model.objects.using(using).filter(policy=policy).delete()
    rule_model.objects.using(using).bulk_create(
        rule_model(policy=policy, position=i, metric=m, operator=o, threshold=t, severity=s, explanation=e)
        for i, (m, o, t, s, e) in enumerate(DEFAULT_RULES)
    )
    _record(apps, using, policy, before, _snapshot(policy, DEFAULT_RULES))


class Migration(migrations.Migration):
    dependencies = [("governance", "0009_identity_moves_to_core"), ("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
