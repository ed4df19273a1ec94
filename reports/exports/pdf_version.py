"""The export PDF's section for one version: provenance, evaluations, checks, decisions, checklist, plots."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Image, KeepTogether

from registry.models import DatasetVersion

from ..cards.context import card_context
from ..cards.render import plots_for
from ..plots import NO_DISTRIBUTIONS, NO_MATRICES, card_plots
from ..selectors import latest_card
from .pdf_layout import clip, num, p, table

# Comments and waivers (up to 10,000 characters) start in the decisions table and follow it in full.
DECISION_CELL_CHARS = 280
FULL_TEXT_BELOW = "full text below the table"


def plots(record: dict[str, Any]) -> list:
    """The version's plots as its HTML card draws them (distributions, correlations, fairness, privacy)."""
    version = DatasetVersion.objects.get(pk=record["version_id"])
    card = latest_card(version)
    drawn = plots_for(card) if card else card_plots(card_context(version).get("plots") or {})
    missing = {"distributions": NO_DISTRIBUTIONS, "correlations": NO_MATRICES}
    out = []
    for key in ("distributions", "correlations", "fairness", "proximity", "membership"):
        plot = drawn[key]
        if plot is None:
            if key in missing:
                out.append(p(missing[key], "small"))
            continue
        image = Image(io.BytesIO(plot.png))
        scale = min(16 * cm / image.drawWidth, 1.0)
        image.drawWidth, image.drawHeight = image.drawWidth * scale, image.drawHeight * scale
        out.append(KeepTogether([image, p(f"{plot.title}. {plot.caption}", "small")]))
    return out


def _decisions(decisions: list[dict[str, Any]]) -> list:
    """The decisions table; a long comment or waiver is cut short there and printed in full below it."""
    rows = [["when", "decision", "by", "comment", "waiver"]]
    rows += [
        [
            d["created_at"],
            f"{d['action']} ({d['from_status']} → {d['to_status']})",
            d["decided_by"],
            clip(d["comment"], DECISION_CELL_CHARS, FULL_TEXT_BELOW) or "—",
            clip(d["waiver"], DECISION_CELL_CHARS, FULL_TEXT_BELOW) or "—",
        ]
        for d in decisions
    ]
    out = [table(rows, [3.2, 3.4, 2.2, 4.1, 4.1])]
    for d in decisions:
        for kind in ("comment", "waiver"):
            if len(d[kind]) > DECISION_CELL_CHARS:
                out.append(p(f"The {kind} of the {d['action']} by {d['decided_by']} on {d['created_at']}:", "small"))
                out.append(p(d[kind]))
    return out


def version_section(record: dict[str, Any], index: int) -> list:
    """Provenance, evaluations (reported ones labelled), policy checks, decisions, flags and the checklist."""
    r = record
    out = [
        CondPageBreak(8 * cm),
        p(f"{index}. {r['dataset']} v{r['number']}", "h1"),
        p(f"Version id {r['version_id']}"),
    ]
    card = r["card"]
    out.append(
        table(
            [
                ["Status", r["status"]],
                ["SHA-256", r["fingerprint"]],
                ["Generator", f"{r['generator']} {r['generator_version']}; seed {r['seed']}; code {r['code_version']}"],
                ["Parameters", ", ".join(f"{k}={v}" for k, v in sorted(r["generator_parameters"].items())) or "—"],
                ["Registered", f"{r['registered_at']} by {r['registered_by']} via {r['registered_via']}"],
                [
                    "Sources",
                    "; ".join(f"{s['namespace']}:{s['name']}@{s['source_version'] or '?'}" for s in r["sources"])
                    or "none declared",
                ],
                ["Card", f"revision {card['revision']}, sha256 {card['content_hash']}" if card else "not rendered"],
            ],
            [3, 14],
            header=False,
        )
    )
    out.append(p("Evaluations", "h2"))
    if r["evaluations"]:
        rows = [["id", "origin", "state", "finished", "headline metrics"]]
        for e in r["evaluations"]:
            origin = "verified" if e["origin"] == "verified" else "REPORTED (not verified)"
            keys = ("quality.overall", "privacy.exact_copies", "privacy.dcr_baseline_protection", "fairness.max_tvd")
            metrics = ", ".join(f"{k} {num(e['metrics'][k])}" for k in keys if k in e["metrics"])
            rows.append([e["id"], origin, e["state"], e["finished_at"] or "—", metrics or "—"])
        out.append(table(rows, [5.2, 2.6, 1.6, 3.4, 4.2]))
    else:
        out.append(p("No evaluation."))
    out.append(p("Policy checks", "h2"))
    if r["policy_checks"]:
        latest = r["policy_checks"][-1]
        out.append(
            p(
                f"{len(r['policy_checks'])} checks; latest {latest['created_at']} "
                f"({latest['trigger']}): {latest['verdict']}"
            )
        )
        failing = [o for o in latest["outcomes"] if o["verdict"] != "pass"]
        if failing:
            rows = [["metric", "rule", "observed", "severity", "verdict"]]
            rows += [
                [o["metric"], f"{o['operator']} {o['threshold']}", num(o["observed"], 4), o["severity"], o["verdict"]]
                for o in failing
            ]
            out.append(table(rows, [5.5, 3, 3, 2.5, 3]))
    else:
        out.append(p("No policy check."))
    out.append(p("Decisions and waivers", "h2"))
    if r["decisions"]:
        out += _decisions(r["decisions"])
    else:
        out.append(p("No decision."))
    for flag in r["flags"]:
        out.append(p(f"Flag {flag['created_at']}: {flag['reason']} ({'resolved' if flag['resolved'] else 'open'})"))
    out.append(p("Checklist", "h2"))
    rows = [["item", "status", "evidence"]] + [[c["item"], c["status"], c["evidence"]] for c in r["checklist"]]
    out.append(table(rows, [2.6, 2.2, 12.2]))
    return out
