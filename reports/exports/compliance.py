"""The compliance checklist: which EU AI Act Art. 10(2) and NIST AI RMF items a version's evidence documents.

Each item is `documented` (with the evidence that says so), `missing` (with what is lacking) or, for
incident handling only, `not_applicable` (no incident happened). Pure functions over an export record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Record = dict[str, Any]
Outcome = tuple[str, str]

DOCUMENTED, MISSING, NOT_APPLICABLE = "documented", "missing", "not_applicable"
REVIEW_ACTIONS = {"approve", "reject", "request_changes"}


def _verified(record: Record) -> dict[str, Any] | None:
    done = [e for e in record["evaluations"] if e["origin"] == "verified" and e["state"] == "succeeded"]
    return done[-1] if done else None


def _metrics(record: Record, prefix: str) -> dict[str, Any]:
    evaluation = _verified(record)
    return {k: v for k, v in (evaluation or {}).get("metrics", {}).items() if k.startswith(prefix)}


def _latest_check(record: Record) -> dict[str, Any] | None:
    return record["policy_checks"][-1] if record["policy_checks"] else None


def _failing(record: Record) -> list[dict[str, Any]]:
    check = _latest_check(record)
    return [o for o in check["outcomes"] if o["verdict"] != "pass"] if check else []


def _design(record: Record) -> Outcome:
    if not record["generator_parameters"] and record["seed"] is None:
        return MISSING, f"generator {record['generator']} recorded, but neither its parameters nor a seed"
    return DOCUMENTED, (
        f"generator {record['generator']} {record['generator_version']}; {len(record['generator_parameters'])} "
        f"parameters; seed {record['seed']}; code {record['code_version'] or 'not recorded'}"
    )


def _origin(record: Record) -> Outcome:
    if not record["sources"]:
        return MISSING, "no source dataset declared"
    gaps = []
    for s in record["sources"]:
        name = f"{s['namespace']}:{s['name']}"
        if s["contains_personal_data"] is None:
            gaps.append(f"{name} does not declare whether it holds personal data")
        elif s["contains_personal_data"] and not s["legal_basis"]:
            gaps.append(f"{name} holds personal data without a stated legal basis")
    if gaps:
        return MISSING, "; ".join(gaps)
    return DOCUMENTED, "; ".join(
        f"{s['namespace']}:{s['name']} (personal data {'yes' if s['contains_personal_data'] else 'no'}"
        + (f", legal basis: {s['legal_basis']}" if s["legal_basis"] else "")
        + ")"
        for s in record["sources"]
    )


def _preparation(record: Record) -> Outcome:
    if not record["code_version"]:
        return MISSING, "the code version that generated and post-processed the data is not recorded"
    keys = ", ".join(sorted(record["generator_parameters"])) or "none"
    return DOCUMENTED, f"code version {record['code_version']}; generation parameters: {keys}"


def _assumptions(record: Record) -> Outcome:
    if not record["intended_uses"].strip():
        return MISSING, "no intended uses stated for the dataset"
    return DOCUMENTED, f"intended uses: {record['intended_uses']}"


def _suitability(record: Record) -> Outcome:
    overall = _metrics(record, "quality.").get("quality.overall")
    if overall is None:
        return MISSING, "no verified quality evaluation"
    utility = _metrics(record, "utility.")
    text = f"{record['row_count']} rows; verified quality {overall:.3f}"
    if utility.get("utility.tstr") is not None and utility.get("utility.trtr") is not None:
        text += f"; utility TSTR {utility['utility.tstr']:.3f} vs TRTR {utility['utility.trtr']:.3f}"
    return DOCUMENTED, text


def _bias_examined(record: Record) -> Outcome:
    fairness = _metrics(record, "fairness.")
    if not fairness:
        return MISSING, "no verified fairness evaluation"
    return DOCUMENTED, "; ".join(f"{k} = {v}" for k, v in sorted(fairness.items()))


def _bias_measures(record: Record) -> Outcome:
    check = _latest_check(record)
    rules = [o for o in (check or {}).get("outcomes", []) if o["metric"].startswith("fairness.")]
    evaluated = [o for o in rules if o["verdict"] != "not_evaluated"]
    if not evaluated:
        return MISSING, "no policy rule on fairness metrics was evaluated"
    return DOCUMENTED, "; ".join(f"{o['metric']} {o['operator']} {o['threshold']:g}: {o['verdict']}" for o in evaluated)


def _gaps(record: Record) -> Outcome:
    fairness = _metrics(record, "fairness.")
    if "fairness.flagged_slices" not in fairness:
        return MISSING, "data gaps not examined (no verified fairness evaluation)"
    flagged = fairness["fairness.flagged_slices"]
    if not flagged:
        return DOCUMENTED, "no missing, under-represented or distorted slice"
    answered = [d for d in record["decisions"] if d["waiver"] or (d["comment"] and d["action"] in REVIEW_ACTIONS)]
    if not answered:
        return MISSING, f"{flagged} flagged slices and no reviewer decision addressing them"
    last = answered[-1]
    return DOCUMENTED, f"{flagged} flagged slices; addressed by {last['decided_by']} ({last['action']}): " + (
        last["waiver"] or last["comment"]
    )


def _independent_review(record: Record) -> Outcome:
    reviews = [d for d in record["decisions"] if d["action"] in REVIEW_ACTIONS]
    independent = [d for d in reviews if d["decided_by_id"] != record["registered_by_id"]]
    if not independent:
        return MISSING, "no review decision yet"
    return DOCUMENTED, "; ".join(
        f"{d['action']} by {d['decided_by']} on {str(d['created_at'])[:10]}" for d in independent
    )


def _tevv(record: Record) -> Outcome:
    evaluation = _verified(record)
    if evaluation is None:
        return MISSING, "no verified evaluation (reported scores are not verified)"
    libraries = ", ".join(f"{k} {v}" for k, v in sorted(evaluation["libraries"].items()))
    return DOCUMENTED, (
        f"evaluation {evaluation['id']} ({evaluation['engine']}; {libraries}); seed {evaluation['seed']}; "
        f"reference sha256 {evaluation['reference_fingerprint'] or 'not recorded'}"
    )


def _privacy(record: Record) -> Outcome:
    privacy = _metrics(record, "privacy.")
    if not privacy:
        return MISSING, "no verified privacy evaluation"
    return DOCUMENTED, "; ".join(f"{k} = {v}" for k, v in sorted(privacy.items()))


def _go_decision(record: Record) -> Outcome:
    decided = [
        d for d in record["decisions"] if d["action"] in {"approve", "reject"} and d["to_status"] != d["from_status"]
    ]
    if not decided:
        return MISSING, f"no decision whether to release (status {record['status']})"
    last = decided[-1]
    return DOCUMENTED, f"{last['action']} by {last['decided_by']} on {str(last['created_at'])[:10]}"


def _risk_response(record: Record) -> Outcome:
    failing = _failing(record)
    if not failing:
        return DOCUMENTED, "every policy rule passes" if _latest_check(
            record
        ) else "no policy check yet: nothing to respond to"
    waivers = [d for d in record["decisions"] if d["waiver"]]
    if waivers:
        return DOCUMENTED, f"waiver by {waivers[-1]['decided_by']}: {waivers[-1]['waiver']}"
    if record["status"] in {"rejected", "changes_requested", "revoked"}:
        return DOCUMENTED, f"risk avoided: version {record['status']}"
    if any(o["severity"] == "block" for o in failing) and record["status"] != "approved":
        return DOCUMENTED, "release blocked by policy: " + ", ".join(
            o["metric"] for o in failing if o["severity"] == "block"
        )
    return MISSING, f"{len(failing)} failing rules without a recorded response"


def _residual_risk(record: Record) -> Outcome:
    if record["status"] not in {"approved", "deprecated"}:
        return NOT_APPLICABLE, f"not released (status {record['status']})"
    approvals = [d for d in record["decisions"] if d["action"] == "approve"]
    waived = [rule for d in approvals for rule in d["waived_rules"]]
    if waived:
        return DOCUMENTED, "accepted with waiver: " + "; ".join(waived)
    if approvals:
        return DOCUMENTED, "released with no failing rule waived"
    return MISSING, "released without a recorded approval"


def _incidents(record: Record) -> Outcome:
    incidents = [d for d in record["decisions"] if d["action"] in {"revoke", "deprecate"}]
    if not incidents and not record["flags"]:
        return NOT_APPLICABLE, "no revocation, deprecation or upstream incident recorded"
    texts = [f"{d['action']} by {d['decided_by']}: {d['comment'] or 'no reason given'}" for d in incidents]
    texts += [f"flagged: {f['reason']}" for f in record["flags"]]
    if any(d["action"] == "revoke" and not d["comment"] for d in incidents):
        return MISSING, "; ".join(texts)
    return DOCUMENTED, "; ".join(texts)


ITEMS: list[tuple[str, str, str, Callable[[Record], Outcome]]] = [
    ("EU AI Act", "Art. 10(2)(a)", "Relevant design choices", _design),
    ("EU AI Act", "Art. 10(2)(b)", "Data collection processes and origin of data", _origin),
    ("EU AI Act", "Art. 10(2)(c)", "Data-preparation processing operations", _preparation),
    ("EU AI Act", "Art. 10(2)(d)", "Formulation of assumptions", _assumptions),
    ("EU AI Act", "Art. 10(2)(e)", "Availability, quantity and suitability of the data", _suitability),
    ("EU AI Act", "Art. 10(2)(f)", "Examination of possible biases", _bias_examined),
    ("EU AI Act", "Art. 10(2)(g)", "Measures to detect, prevent and mitigate biases", _bias_measures),
    ("EU AI Act", "Art. 10(2)(h)", "Data gaps and how they are addressed", _gaps),
    ("NIST AI RMF", "MEASURE 1.3", "Independent assessment", _independent_review),
    ("NIST AI RMF", "MEASURE 2.1", "Test sets, metrics and tools documented", _tevv),
    ("NIST AI RMF", "MEASURE 2.10", "Privacy risk examined", _privacy),
    ("NIST AI RMF", "MEASURE 2.11", "Fairness and bias evaluated", _bias_examined),
    ("NIST AI RMF", "MANAGE 1.1", "Decision whether to proceed", _go_decision),
    ("NIST AI RMF", "MANAGE 1.3", "Responses to identified risks", _risk_response),
    ("NIST AI RMF", "MANAGE 1.4", "Residual risks documented", _residual_risk),
    ("NIST AI RMF", "MANAGE 4.1", "Incidents, revocations and corrective actions", _incidents),
]


def version_checklist(record: Record) -> list[dict[str, str]]:
    """Every checklist item for one version: framework, item, title, status and the evidence (or the gap)."""
    out = []
    for framework, item, title, rule in ITEMS:
        status, evidence = rule(record)
        out.append({"framework": framework, "item": item, "title": title, "status": status, "evidence": evidence})
    return out


def checklist_summary(counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Per item, how many versions are documented, missing or not applicable (from accumulated counts)."""
    return [
        {
            "framework": framework,
            "item": item,
            "title": title,
            **{s: counts.get(item, {}).get(s, 0) for s in (DOCUMENTED, MISSING, NOT_APPLICABLE)},
        }
        for framework, item, title, _ in ITEMS
    ]
