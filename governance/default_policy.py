"""The global default release policy: thresholds, severities and why each one is there.

Shipped by a data migration; kept here as data so the README, the tests and the migration agree.
Block rules only use metrics every full verified evaluation produces; rules on metrics that need extra
configuration (a holdout, quasi-identifiers, sensitive attributes) warn, so a missing metric asks for
a waiver instead of making approval impossible.
"""

DEFAULT_POLICY_NAME = "Default release policy"
DEFAULT_POLICY_DESCRIPTION = (
    "Minimum evidence for releasing a synthetic dataset: fidelity, valid structure, no copied or memorised "
    "real records, no direct identifiers, and representative sensitive groups."
)

# (metric, operator, threshold, severity, explanation)
DEFAULT_RULES = [
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


def create_default_policy(policy_model, rule_model, using: str = "default") -> None:
    """Create the default policy if it is missing (the data migration, and tests after a flush, call this)."""
    policy, created = policy_model.objects.using(using).get_or_create(
        project=None, name=DEFAULT_POLICY_NAME, defaults={"description": DEFAULT_POLICY_DESCRIPTION, "version": 1}
    )
    if not created:
        return
    rule_model.objects.using(using).bulk_create(
        rule_model(
            policy=policy,
            position=position,
            metric=metric,
            operator=operator,
            threshold=threshold,
            severity=severity,
            explanation=explanation,
        )
        for position, (metric, operator, threshold, severity, explanation) in enumerate(DEFAULT_RULES)
    )
