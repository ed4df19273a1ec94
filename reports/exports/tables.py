"""The export as CSV tables: one file per table, rows written as records stream past.

Nested values (metrics, parameters, libraries) are JSON in their cell; audit events keep `before_json` and
`after_json` exactly as hashed, so the chain segment can be re-verified from the CSV alone.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .chain import EVENT_FIELDS
from .files import HashingWriter

TABLES: dict[str, list[str]] = {
    "versions.csv": [
        "version_id",
        "project",
        "dataset",
        "number",
        "status",
        "fingerprint",
        "fingerprint_source",
        "schema_hash",
        "row_count",
        "column_count",
        "byte_count",
        "format",
        "storage_uri",
        "generator",
        "generator_version",
        "generator_parameters",
        "seed",
        "code_version",
        "lineage_run_id",
        "registered_by",
        "registered_via",
        "registered_at",
        "dataset_owner",
        "dataset_license",
        "intended_uses",
        "out_of_scope_uses",
        "prohibited_uses",
        "card_revision",
        "card_sha256",
    ],
    "version_sources.csv": [
        "version_id",
        "namespace",
        "name",
        "source_version",
        "contains_personal_data",
        "legal_basis",
        "owner",
        "license",
        "fingerprint",
        "revoked_at",
        "revocation_reason",
    ],
    "evaluations.csv": [
        "evaluation_id",
        "version_id",
        "origin",
        "state",
        "tool",
        "engine",
        "libraries",
        "seed",
        "kinds",
        "reference_fingerprint",
        "reference_rows",
        "holdout_fingerprint",
        "holdout_rows",
        "requested_by",
        "created_at",
        "finished_at",
        "metrics",
        "error",
    ],
    "policy_checks.csv": [
        "policy_check_id",
        "version_id",
        "created_at",
        "trigger",
        "verdict",
        "evaluation_id",
        "policies",
    ],
    "policy_outcomes.csv": [
        "policy_check_id",
        "version_id",
        "policy",
        "policy_version",
        "rule",
        "metric",
        "operator",
        "threshold",
        "severity",
        "observed",
        "verdict",
        "explanation",
    ],
    "decisions.csv": [
        "decision_id",
        "version_id",
        "created_at",
        "action",
        "decided_by",
        "decided_via",
        "from_status",
        "to_status",
        "review_round",
        "comment",
        "waiver",
        "waived_rules",
    ],
    "impact_flags.csv": ["version_id", "created_at", "reason", "previous_status", "resolved"],
    "checklist.csv": ["version_id", "framework", "item", "title", "status", "evidence"],
}
EVENTS_TABLE = "audit_events.csv"
EVENT_COLUMNS = list(EVENT_FIELDS)


# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection"); "'" is added so
# that the prefix can always be taken off again: every text starting with any of them gets one more "'".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as text: one "'" before a cell that would start a formula (OWASP).

    Reversible: remove one leading "'" from any text cell that has one to get the stored text back.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> Any:
    """A CSV cell: JSON for nested values, empty for None, text (neutralised) otherwise; numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, str):
        return neutralise(value)
    return value


def table_rows(record: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """The rows one version contributes to each table."""
    vid = record["version_id"]
    card = record["card"] or {}
    version = {**record, "card_revision": card.get("revision"), "card_sha256": card.get("content_hash")}
    return {
        "versions.csv": [[cell(version.get(c)) for c in TABLES["versions.csv"]]],
        "version_sources.csv": [
            [vid, *(cell(s[c]) for c in TABLES["version_sources.csv"][1:])] for s in record["sources"]
        ],
        "evaluations.csv": [
            [e["id"], vid, *(cell(e[c]) for c in TABLES["evaluations.csv"][2:])] for e in record["evaluations"]
        ],
        "policy_checks.csv": [
            [p["id"], vid, p["created_at"], p["trigger"], p["verdict"], cell(p["evaluation_id"]), cell(p["policies"])]
            for p in record["policy_checks"]
        ],
        "policy_outcomes.csv": [
            [p["id"], vid, *(cell(o[c]) for c in TABLES["policy_outcomes.csv"][2:])]
            for p in record["policy_checks"]
            for o in p["outcomes"]
        ],
        "decisions.csv": [
            [d["id"], vid, *(cell(d[c]) for c in TABLES["decisions.csv"][2:])] for d in record["decisions"]
        ],
        "impact_flags.csv": [[vid, *(cell(f[c]) for c in TABLES["impact_flags.csv"][1:])] for f in record["flags"]],
        "checklist.csv": [[vid, *(cell(c[k]) for k in TABLES["checklist.csv"][1:])] for c in record["checklist"]],
    }


class VersionTables:
    """The per-version tables, each written to its own file under `directory` as records arrive."""

    def __init__(self, directory: Path):
        self.paths = {name: directory / name for name in TABLES}
        self.handles = {name: path.open("wb") for name, path in self.paths.items()}
        self.sinks = {name: HashingWriter(handle) for name, handle in self.handles.items()}
        self.writers = {name: csv.writer(sink, lineterminator="\n") for name, sink in self.sinks.items()}
        for name, columns in TABLES.items():
            self.writers[name].writerow(columns)

    def add(self, record: dict[str, Any]) -> None:
        for name, rows in table_rows(record).items():
            self.writers[name].writerows(rows)
            self.sinks[name].rows += len(rows)

    def close(self) -> list[tuple[str, Path, dict[str, Any]]]:
        """(name, path, manifest entry) per table, files closed."""
        done = []
        for name, sink in self.sinks.items():
            entry = sink.entry(name)
            self.handles[name].close()
            done.append((name, self.paths[name], entry))
        return done


def _quoted(text: str) -> str:
    return '"' + neutralise(text).replace('"', '""') + '"'


def event_line(row: tuple) -> str:
    """An audit event as one CSV line: every hashed field as stored, text always quoted (and neutralised: a
    text starting a formula has one more leading "'"), null as empty.

    Written by hand because csv.writer costs more than everything else per event; the result is plain
    RFC 4180 CSV (csv.reader reads it back), and it tells an empty text ("") from a null integer ().
    """
    (seq, at, uid, username, via, action, otype, oid, orepr, pid, slug, before, after, rid, ip, prev, digest) = row
    q = _quoted
    return (
        f"{seq},{q(at)},{'' if uid is None else uid},{q(username)},{q(via)},{q(action)},{q(otype)},{q(oid)},"
        f"{q(orepr)},{'' if pid is None else pid},{q(slug)},{q(before)},{q(after)},{q(rid)},{q(ip)},{q(prev)},"
        f"{q(digest)}\n"
    )
