"""The global default release policy: thresholds, severities and why each one is there.

Shipped by a data migration; kept here as data so the README, the tests and the migration agree.
Privacy cannot be judged without unseen real data: the block rules on near copies, DCR share and membership
need a holdout, so a version evaluated without one cannot be approved (those rules are not evaluated, never
a pass). Rules on metrics that need other configuration (quasi-identifiers, sensitive attributes) warn, so
a missing metric asks for a waiver instead of making approval impossible. Every threshold is calibrated so
that a random sample of the real data itself, taken as "synthetic", passes every rule.
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
    ("diagnostic.type_conformance", ">=", 0.99, "block",
     "A synthetic column is written in another type than the real one (an age as \"37 yrs\", a price as "
     "\"1,574\"): more than 1% of its values cannot be read as the reference's type, so no other score can "
     "describe that column."),
    ("privacy.exact_copy_rate", "<=", 0.001, "block",
     "More than 0.1% of synthetic rows are verbatim copies of real records; each copy discloses a real "
     "person's full record (singling out, WP29 Opinion 05/2014)."),
    ("privacy.singling_out", "<=", 0.01, "block",
     "More than 1% of the real records that are unique in the training data appear verbatim in the synthetic "
     "data: each one singles out a real person (NIST SDNist unique exact matches; WP29 singling out)."),
    ("privacy.near_copy_excess", "<=", 0.05, "block",
     "Synthetic rows equal real training rows in every column but one (a copied record with one value "
     "changed) more often than unseen real records do, by more than 5 percentage points: records were "
     "copied and disguised. Needs a holdout."),
    ("privacy.dcr_share", "<=", 0.6, "block",
     "Synthetic rows are closer to the training records than to unseen holdout records (0.5 when the "
     "generator did not memorise; above 0.6 a large share of rows sit on training records: linkability, "
     "MOSTLY AI's DCR share). Needs a holdout."),
    ("privacy.membership_auc", "<=", 0.6, "block",
     "An attacker scoring records by their distance to the synthetic data tells training records from "
     "unseen ones (AUC 0.5 = no signal; above 0.6 membership leaks: Stadler et al. 2022, NIST AI 600-1 "
     "MS-2.10-001). Needs a holdout."),
    ("pii.columns", "==", 0, "block",
     "Columns holding direct identifiers (e-mail, phone, national id, card number, IBAN, IP address) must be "
     "removed or replaced before release."),
    ("pii.replayed_values", "==", 0, "block",
     "Identifier values copied from the real data re-identify people directly."),
    ("quality.overall", ">=", 0.8, "warn",
     "Fidelity between 0.7 and 0.8 is usable for testing but weak for modelling: read the per-column scores."),
    ("privacy.dcr_overfitting_protection", ">=", 0.3, "warn",
     "Synthetic rows are closer to the training rows than to unseen holdout rows, a sign of overfitting "
     "(sdmetrics DCROverfittingProtection; not evaluated without a holdout)."),
    ("privacy.membership_tpr_at_fpr_1pct", "<=", 0.05, "warn",
     "At a 1% false-positive rate the membership attack still finds more than 5% of the training records: "
     "a few people are exposed even if the average looks safe (Carlini et al. 2022)."),
    ("privacy.membership_max_group_auc", "<=", 0.65, "warn",
     "Within one group of a sensitive attribute the membership attack does markedly better than chance: "
     "that group's members are exposed (not evaluated without sensitive attributes and a holdout)."),
    ("privacy.nndr_p10_ratio", ">=", 0.5, "warn",
     "The closest synthetic rows are far nearer to one training record than to the next (NNDR) compared "
     "with unseen records: individual records are reproduced rather than the population around them."),
    ("privacy.inference_advantage", "<=", 0.05, "warn",
     "A model learned from the synthetic data guesses a sensitive column of the training people better "
     "than that of unseen people, by more than 5 points (not evaluated without quasi-identifiers, "
     "sensitive columns and a holdout)."),
    ("pii.free_text_columns", "==", 0, "warn",
     "Direct identifiers (e-mail, phone, national id, card number, IBAN) appear inside free-text values: "
     "read the masked examples on the card; real ones identify people as surely as an identifier column."),
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
