"""Applying policy rules to metrics: pure functions over plain data, so a stored snapshot re-checks identically."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from typing import Any

OPERATORS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def rule_outcome(policy: Mapping[str, Any], rule: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict of one rule: pass, fail, or not_evaluated when the metric is absent (never a pass)."""
    observed = metrics.get(rule["metric"])
    if observed is None or isinstance(observed, bool) or (isinstance(observed, float) and math.isnan(observed)):
        verdict = "not_evaluated"
        observed = None
    else:
        verdict = "pass" if OPERATORS[rule["operator"]](observed, rule["threshold"]) else "fail"
    return {
        "policy": policy["name"],
        "policy_id": policy["id"],
        "policy_version": policy["version"],
        "rule": rule["id"],
        "metric": rule["metric"],
        "operator": rule["operator"],
        "threshold": rule["threshold"],
        "severity": rule["severity"],
        "explanation": rule["explanation"],
        "observed": observed,
        "verdict": verdict,
    }


def check(policies: Iterable[Mapping[str, Any]], metrics: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Outcomes of every rule of every policy snapshot, and the overall verdict (block > warn > pass)."""
    outcomes = [rule_outcome(policy, rule, metrics) for policy in policies for rule in policy["rules"]]
    failing = {o["severity"] for o in outcomes if o["verdict"] != "pass"}
    verdict = "block" if "block" in failing else "warn" if "warn" in failing else "pass"
    return outcomes, verdict


def describe(outcome: Mapping[str, Any]) -> str:
    """'privacy.exact_copy_rate = 0.4013 (must be <= 0.001)', or 'not evaluated' (with why, when known)."""
    expected = f"must be {outcome['operator']} {outcome['threshold']:g}"
    if outcome["verdict"] == "not_evaluated":
        reason = outcome.get("reason")
        return f"{outcome['metric']} not evaluated ({expected}" + (f"; {reason})" if reason else ")")
    observed = outcome["observed"]
    shown = f"{observed:.4g}" if isinstance(observed, float) else str(observed)
    return f"{outcome['metric']} = {shown} ({expected})"
