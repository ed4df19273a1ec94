"""What each privacy metric means, how to read it and where its definition comes from: one table that the
card, the README and reviewers read, next to the engine that computes the numbers."""

from __future__ import annotations

SDMETRICS = "sdmetrics 0.32"

# key -> (criterion, label, how to read it, definition, source)
PRIVACY_METRICS: dict[str, tuple[str, str, str, str, str]] = {
    "privacy.exact_copy_rate": (
        "singling_out", "Exact copies of real rows", "0 is the only safe value",
        "share of synthetic rows equal to a real training row in every compared column", SDMETRICS,
    ),
    "privacy.singling_out": (
        "singling_out", "Unique real records reproduced", "0 expected",
        "share of the training records unique in the training table that appear exactly in the synthetic table",
        "NIST CRC SDNist 2.4 unique_exact_matches",
    ),
    "privacy.singling_out_quasi_identifiers": (
        "singling_out", "Unique quasi-identifier combinations reproduced", "compare with the holdout",
        "the same on the quasi-identifiers alone (coarse columns reproduce common combinations by design)",
        "NIST CRC SDNist 2.4 unique_exact_matches",
    ),
    "privacy.qi_unique_share": (
        "singling_out", "Synthetic rows pointing at one real person (k = 1)", "lower is better",
        "share of synthetic rows whose quasi-identifier combination occurs exactly once in the real table",
        "SmartNoise Evaluator; k-anonymity (Sweeney 2002)",
    ),
    "privacy.qi_k_lt5_share": (
        "singling_out", "Synthetic rows pointing at fewer than 5 real people", "lower is better",
        "share of synthetic rows whose quasi-identifier combination occurs 1 to 4 times in the real table",
        "SmartNoise Evaluator; k-anonymity (Sweeney 2002)",
    ),
    "privacy.new_row_synthesis": (
        "linkability", "New row synthesis", "share of rows matching no real row (1 ideal)",
        "share of synthetic rows with no real row equal on discrete columns and within 1% on numerical ones",
        SDMETRICS + " NewRowSynthesis",
    ),
    "privacy.near_copy_rate": (
        "linkability", "Near copies of real rows", "compare with the holdout's rate",
        "share of synthetic rows equal to a training row in every compared column but at most one",
        "registry (all-but-one-column matching)",
    ),
    "privacy.near_copy_excess": (
        "linkability", "Near copies beyond chance", "0 or below expected",
        "near-copy rate of the synthetic rows minus that of unseen holdout rows, both against training",
        "registry (all-but-one-column matching)",
    ),
    "privacy.dcr_share": (
        "linkability", "DCR share", "0.5 ideal",
        "share of synthetic rows closer to the training records than to the holdout records, ties counted "
        "half, corrected to equal table sizes", "MOSTLY AI QA (mostlyai-qa) dcr_share",
    ),
    "privacy.nndr_p10_ratio": (
        "linkability", "NNDR of the closest rows, synthetic / holdout", "1 ideal; near 0 = records reproduced",
        "10th percentile of the distance ratio to the nearest and second-nearest training record, synthetic "
        "rows over holdout rows", "MOSTLY AI QA; SynthEval",
    ),
    "privacy.dcr_baseline_protection": (
        "linkability", "DCR baseline protection", "1 = as far as random data",
        "median distance of synthetic rows to the closest real row over that of uniform random rows",
        SDMETRICS + " DCRBaselineProtection",
    ),
    "privacy.dcr_overfitting_protection": (
        "linkability", "DCR overfitting protection", "1 = no closer to training than holdout",
        "min(2 x share of synthetic rows not strictly closer to training than to holdout, 1)",
        SDMETRICS + " DCROverfittingProtection",
    ),
    "privacy.disclosure_protection": (
        "inference", "Disclosure protection (CAP)", "higher is better, 0 to 1",
        "1 - share of synthetic rows matching a real row's quasi-identifiers that carry its sensitive values, "
        "over the baseline of guessing", SDMETRICS + " DisclosureProtection",
    ),
    "privacy.inference_advantage": (
        "inference", "Attribute inference advantage", "0 ideal",
        "accuracy on training records minus accuracy on holdout records of a model trained on the synthetic "
        "data to predict a sensitive column from the quasi-identifiers (largest over sensitive columns)",
        "Yeom et al., CSF 2018; Stadler et al., USENIX Security 2022",
    ),
    "privacy.inference_max_group_advantage": (
        "inference", "Largest inference advantage in one group", "0 ideal",
        "the inference advantage within each group of each sensitive attribute; the largest",
        "Yeom et al. 2018; EU AI Act Art. 10(2)(f)",
    ),
    "privacy.membership_auc": (
        "membership", "Membership inference AUC", "0.5 ideal (no signal)",
        "ROC AUC of scoring training (member) and holdout (non-member) records by minus their distance to the "
        "closest synthetic row", "Stadler et al., USENIX Security 2022",
    ),
    "privacy.membership_tpr_at_fpr_1pct": (
        "membership", "Members found at 1% false positives", "about 0.01 ideal",
        "true-positive rate of that attack at a 1% false-positive rate", "Carlini et al., IEEE S&P 2022",
    ),
    "privacy.membership_tpr_at_fpr_0_1pct": (
        "membership", "Members found at 0.1% false positives", "about 0.001 ideal",
        "true-positive rate of that attack at a 0.1% false-positive rate", "Carlini et al., IEEE S&P 2022",
    ),
    "privacy.membership_max_group_auc": (
        "membership", "Largest membership AUC in one group", "0.5 ideal",
        "the attack's AUC within each group of each sensitive attribute; the largest",
        "Stadler et al. 2022; EU AI Act Art. 10(2)(f)",
    ),
}  # fmt: skip

CRITERIA: dict[str, tuple[str, str]] = {
    "singling_out": ("Singling out", "Can a real person be isolated in the synthetic data?"),
    "linkability": ("Linkability", "Can synthetic records be linked to real training records?"),
    "inference": ("Inference", "Can a sensitive value of a real person be deduced?"),
    "membership": ("Membership", "Can an attacker tell who was in the training data?"),
}

# The other kinds: key -> (label, definition, source). The same catalogue as PRIVACY_METRICS for the README.
OTHER_METRICS: dict[str, tuple[str, str, str]] = {
    "quality.overall": ("Quality", "mean of column shapes and column pair trends", SDMETRICS + " QualityReport"),
    "quality.column_shapes": (
        "Column shapes", "mean per column of KSComplement (numbers, datetimes) or TVComplement (categories)",
        SDMETRICS + " QualityReport",
    ),
    "quality.column_pair_trends": (
        "Column pair trends", "mean per column pair of CorrelationSimilarity or ContingencySimilarity",
        SDMETRICS + " QualityReport",
    ),
    "quality.detection": (
        "Detection", "1 - (2 x max(ROC AUC, 0.5) - 1) of a logistic regression telling real rows from synthetic "
        "ones, mean over 3 stratified folds (1 = indistinguishable); tables above 50,000 rows are sampled to 50,000",
        SDMETRICS + " LogisticDetection",
    ),
    "diagnostic.overall": (
        "Diagnostics", "mean of data validity, data structure and (with declared constraints) constraint validity",
        SDMETRICS + " DiagnosticReport",
    ),
    "diagnostic.data_validity": (
        "Data validity", "per column BoundaryAdherence (numbers, datetimes) or CategoryAdherence (categories), mean",
        SDMETRICS + " DiagnosticReport",
    ),
    "diagnostic.data_structure": ("Data structure", "TableStructure: the same column names", SDMETRICS),
    "diagnostic.constraint_validity": (
        "Constraint validity", "per constraint the version declares, ConstraintAdherence: the share of synthetic "
        "rows that follow it; mean (present only with constraints)", SDMETRICS + " DiagnosticReport",
    ),
    "diagnostic.type_conformance": (
        "Type conformance", "lowest over columns of 1 - (share of synthetic values that do not parse as the "
        "reference's type - the same share in the reference)", "registry (the reference's schema is the truth)",
    ),
    "privacy.exact_copies": (
        "Exact copies", "synthetic rows equal to a real training row in every compared column", SDMETRICS,
    ),
    "privacy.dcr_median": (
        "Median DCR", "median over synthetic rows of the distance to the closest real row", SDMETRICS + " dcr_utils",
    ),
    "privacy.nndr_p10": (
        "NNDR of synthetic rows", "10th percentile of nearest / second-nearest training distance",
        "MOSTLY AI QA; SynthEval",
    ),
    "privacy.nndr_p10_holdout": (
        "NNDR of holdout rows", "the same for unseen real rows (what the synthetic value is compared with)",
        "MOSTLY AI QA; SynthEval",
    ),
    "pii.columns": (
        "Identifier columns", "columns whose values (or name and values) are e-mails, phone numbers (phonenumbers), "
        "national ids, card numbers (Luhn), IBANs (mod 97) or IP addresses", "registry",
    ),
    "pii.replayed_values": ("Replayed identifiers", "identifier values of the real table found in the synthetic "
                            "one", "registry"),
    "pii.free_text_columns": ("Identifiers in free text", "text columns with identifiers inside their values",
                              "registry"),
    "fairness.max_tvd": (
        "Largest distribution gap", "largest total variation distance of a sensitive attribute's distribution "
        "(plain TVD, without TVComplement's smoothing)",
        "total variation distance",
    ),
    "fairness.max_slice_gap": (
        "Largest slice quality gap", "largest difference between the whole table's column shapes and a slice's",
        "registry (sdmetrics single-column metrics per slice)",
    ),
    "fairness.flagged_slices": (
        "Flagged slices", "slices missing or under-represented (one-sided Miettinen-Nurminen score test) or distorted "
        "(bootstrap test of the gap beyond a 0.1 margin), Holm-corrected, significant at alpha 0.05",
        "EU AI Act Art. 10(2)(f)-(h)",
    ),
    "utility.tstr": ("TSTR", "macro F1 (R² for numbers) of a gradient-boosting model trained on synthetic rows, "
                     "tested on held-out real rows",
                     "Esteban et al. 2017 (train synthetic, test real)"),
    "utility.trtr": ("TRTR", "the same model trained on real rows", "Esteban et al. 2017"),
    "utility.gap": ("Utility gap", "TRTR - TSTR", "registry"),
}  # fmt: skip

# How each metric's 95% interval is computed (where the result stores one).
INTERVALS: dict[str, str] = {
    "privacy.exact_copy_rate": "exact binomial (Clopper-Pearson)",
    "privacy.singling_out": "exact binomial (Clopper-Pearson)",
    "privacy.singling_out_quasi_identifiers": "exact binomial (Clopper-Pearson)",
    "privacy.qi_unique_share": "exact binomial (Clopper-Pearson)",
    "privacy.qi_k_lt5_share": "exact binomial (Clopper-Pearson)",
    "privacy.near_copy_rate": "exact binomial (Clopper-Pearson)",
    "privacy.near_copy_excess": "Newcombe hybrid score (difference of two shares)",
    "privacy.dcr_share": "percentile bootstrap over synthetic rows",
    "privacy.nndr_p10": "percentile bootstrap over synthetic rows",
    "privacy.nndr_p10_holdout": "percentile bootstrap over holdout rows",
    "privacy.nndr_p10_ratio": "percentile bootstrap over both",
    "privacy.dcr_baseline_protection": "percentile bootstrap when synthetic rows are sampled; exact otherwise",
    "privacy.dcr_median": "percentile bootstrap when synthetic rows are sampled; exact otherwise",
    "privacy.membership_auc": "percentile bootstrap, members and non-members apart",
    "privacy.membership_tpr_at_fpr_1pct": "percentile bootstrap, members and non-members apart",
    "privacy.membership_tpr_at_fpr_0_1pct": "percentile bootstrap, members and non-members apart",
    "privacy.membership_max_group_auc": "percentile bootstrap within the group",
    "privacy.inference_advantage": "percentile bootstrap over records",
    "privacy.inference_max_group_advantage": "percentile bootstrap within the group",
    "fairness.flagged_slices": "each flag is a test at alpha 0.05 (Holm-corrected)",
}


def catalogue() -> list[tuple[str, str, str, str, str]]:
    """Every metric the engine can produce: (key, label, definition, 95% interval, source), by kind."""
    rows = [(key, label, definition, source) for key, (label, definition, source) in OTHER_METRICS.items()]
    rows += [(key, entry[1], entry[3], entry[4]) for key, entry in PRIVACY_METRICS.items()]
    order = ("quality", "diagnostic", "privacy", "pii", "fairness", "utility")
    rows.sort(key=lambda row: order.index(row[0].split(".")[0]))
    return [
        (key, label, definition, INTERVALS.get(key, "none (a count or a score over all rows)"), source)
        for key, label, definition, source in rows
    ]


def markdown_table() -> str:
    """The catalogue as the README's Markdown table (README.md carries this text verbatim; a test checks)."""
    lines = ["| metric | what it measures | 95% interval | source |", "|---|---|---|---|"]
    for key, label, definition, interval, source in catalogue():
        lines.append(f"| `{key}` | {label}: {definition} | {interval} | {source} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
