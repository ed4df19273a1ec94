"""PII kind: direct identifiers in column names and values, and real identifiers replayed in synthetic data.

For each column, up to ``pii_sample_rows`` non-missing values of each table (seeded sample) are run
through the detectors of ``pii_detectors`` (digits-only detectors for integer columns). A column is
flagged as a direct identifier when, in the real or the synthetic table,

- the best detector matches at least ``pii_share_threshold`` (default 0.5) of the sampled values, or
- the column name names an identifier (email, phone, ssn, iban, card, ip, ...) and the matching detector
  matches at least ``pii_name_hint_share_threshold`` (default 0.1) of them, or
- the name says person name or street address (no format to check) and at least
  ``pii_share_threshold`` of the values look like one, with at least half of them distinct.

Free text: in a text column that is not flagged, the sampled values are also searched for identifiers
embedded in longer text (``pii_detectors.find_embedded``: e-mail, "+" phone, dashed SSN, card with
Luhn, IBAN with mod-97); ``pii.free_text_columns`` counts the columns whose synthetic values embed any.

Replay: for each flagged column, the number of distinct synthetic values (whole column, stripped text)
that also occur in the real column. Examples are masked: only the last two letters/digits (and an
e-mail's first letters and top-level domain) are shown.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.pii_detectors import DETECTORS, NUMERIC_DETECTORS, find_embedded
from registry.evaluation.prepare import PreparedData

MAX_EXAMPLES = 3
_NAME_HINTS = {
    "email": {"email", "mail", "emailaddress"},
    "phone": {"phone", "telephone", "tel", "mobile", "cell", "fax", "msisdn", "phonenumber"},
    "us_ssn": {"ssn", "social", "socialsecurity"},
    "uk_nino": {"nino", "nin", "nationalinsurance"},
    "es_dni": {"dni", "nie", "nif"},
    "payment_card": {"card", "cc", "pan", "creditcard", "cardnumber"},
    "iban": {"iban", "bankaccount"},
    "ip_address": {"ip", "ipv4", "ipv6", "ipaddress"},
    "person_name": {"name", "firstname", "lastname", "surname", "fullname", "forename", "givenname"},
    "street_address": {"address", "street", "addr", "addressline"},
}
_WEAK = {
    "person_name": re.compile(r"[A-Z][a-z'\-]+(?: [A-Z][a-z'\-\.]+){0,3}"),
    "street_address": re.compile(r"\d+[A-Za-z]?,? +[A-Za-z].*|[A-Za-z][A-Za-z .'\-]* \d+[A-Za-z]?"),
}


def _tokens(name: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    parts = [part for part in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if part]
    # Joined neighbours catch "e_mail", "first_name", "credit_card" as one token too.
    return set(parts) | {a + b for a, b in itertools.pairwise(parts)}


def name_hint(name: str) -> str | None:
    """The identifier kind a column name suggests, if any."""
    tokens = _tokens(name)
    for kind, words in _NAME_HINTS.items():
        if tokens & words:
            return kind
    return None


def _as_text(series: pd.Series) -> tuple[pd.Series, bool] | None:
    """Non-missing values as stripped text, and whether they came from an integer-valued column."""
    values = series.dropna()
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = values.to_numpy(dtype=np.float64)
        integral = values[np.isfinite(numbers) & (np.floor(numbers) == numbers)]
        return integral.astype(np.int64).astype(str), True
    return values.astype(str).str.strip(), False


def mask(value: str, detector: str | None = None) -> str:
    """Hide a value: only separators and the last two letters/digits stay readable."""
    if detector == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***.{domain.rsplit('.', 1)[-1]}"
    shown = 2 if len(value) >= 6 else 0
    hidden = len(value) - shown
    return "".join("*" if char.isalnum() and i < hidden else char for i, char in enumerate(value))


def _scan(text: pd.Series, numeric: bool, hint: str | None, sample: int, seed: int) -> dict:
    if len(text) > sample:
        text = text.iloc[np.sort(np.random.default_rng(seed).choice(len(text), size=sample, replace=False))]
    values = text.tolist()
    detectors = dict(NUMERIC_DETECTORS if numeric else DETECTORS)
    if hint in _WEAK and not numeric:
        detectors[hint] = _WEAK[hint].fullmatch
    shares, examples = {}, {}
    for kind, detect in detectors.items():
        hits = [value for value in values if detect(value)]
        shares[kind] = len(hits) / len(values) if values else 0.0
        examples[kind] = [mask(value, kind) for value in hits[:MAX_EXAMPLES]]
    best = max(shares, key=lambda kind: shares[kind]) if shares else None
    embedded: dict[str, dict] = {}
    if not numeric:
        for value in values:
            for kind, hits in find_embedded(value).items():
                entry = embedded.setdefault(kind, {"values": 0, "examples": []})
                entry["values"] += 1
                if len(entry["examples"]) < MAX_EXAMPLES:
                    entry["examples"].append(mask(hits[0], kind))
        for entry in embedded.values():
            entry["share"] = entry.pop("values") / len(values)
    return {
        "sampled": len(values),
        "distinct_share": len(set(values)) / len(values) if values else 0.0,
        "shares": shares,
        "best": best,
        "examples": examples,
        "embedded": embedded,
    }


def _flag(scan: dict, hint: str | None, config: EvaluationConfig) -> str | None:
    shares = scan["shares"]
    if hint in _WEAK:
        weak_share = shares.get(hint, 0.0)
        if weak_share >= config.pii_share_threshold and scan["distinct_share"] >= 0.5:
            return hint
    best = scan["best"]
    if best is not None and best not in _WEAK and shares[best] >= config.pii_share_threshold:
        return best
    hinted = shares.get(hint, 0.0) if hint not in _WEAK else 0.0
    if hint is not None and hinted >= config.pii_name_hint_share_threshold:
        return hint
    return None


def _replayed(real: pd.Series, synthetic: pd.Series) -> tuple[int, int]:
    real_text, synthetic_text = _as_text(real), _as_text(synthetic)
    if real_text is None or synthetic_text is None:
        return 0, 0
    distinct = pd.unique(synthetic_text[0])
    return int(np.isin(distinct, pd.unique(real_text[0])).sum()), int(distinct.size)


def evaluate_pii(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """Scan every column (identifier columns included) and count replayed identifier values."""
    columns, replayed_total = [], 0
    for position, name in enumerate(data.sdtypes):
        hint = name_hint(name)
        report: dict = {"column": name, "name_hint": hint, "tables": {}}
        detector = None
        for offset, (label, frame) in enumerate((("reference", data.real), ("synthetic", data.synthetic))):
            converted = _as_text(frame[name])
            if converted is None or converted[0].empty:
                continue
            seed = config.seed + 2 * position + offset
            scan = _scan(converted[0], converted[1], hint, config.pii_sample_rows, seed)
            detector = detector or _flag(scan, hint, config)
            best = scan["best"]
            report["tables"][label] = {
                "sampled": scan["sampled"],
                "detector": best,
                "match_share": scan["shares"].get(best, 0.0) if best else 0.0,
                "hint_match_share": scan["shares"].get(hint) if hint else None,
                "examples": scan["examples"].get(best, []) if best else [],
                "embedded": scan["embedded"],
            }
        report["flagged"] = detector is not None
        report["detector"] = detector
        if detector is not None:
            replayed, distinct = _replayed(data.real[name], data.synthetic[name])
            report["replayed_values"] = replayed
            report["synthetic_distinct_values"] = distinct
            replayed_total += replayed
        synthetic_embedded = report["tables"].get("synthetic", {}).get("embedded") or {}
        report["free_text_identifiers"] = sorted(synthetic_embedded) if detector is None else []
        signal = any(table["match_share"] > 0 or table["embedded"] for table in report["tables"].values())
        if report["flagged"] or hint is not None or signal:
            columns.append(report)
    flagged = [report["column"] for report in columns if report["flagged"]]
    free_text = [report["column"] for report in columns if report["free_text_identifiers"]]
    metrics = {
        "pii.columns": len(flagged),
        "pii.replayed_values": replayed_total,
        "pii.free_text_columns": len(free_text),
    }
    results = {
        "flagged_columns": flagged,
        "free_text_columns": free_text,
        "columns": columns,
        "thresholds": {
            "share": config.pii_share_threshold,
            "name_hint_share": config.pii_name_hint_share_threshold,
            "sample_rows": config.pii_sample_rows,
        },
    }
    return KindResult(metrics=metrics, results=results)
