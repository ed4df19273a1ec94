"""PII kind: direct identifiers found by their values (names only add evidence), replayed identifiers.

For each column, up to ``pii_sample_rows`` non-missing values of each table (seeded sample) are run
through the detectors of ``pii_detectors`` (digits-only detectors for integer columns): e-mail, phone
(``phonenumbers``: every written format, extensions, international prefixes), US SSN, UK NINO, Spanish
DNI, French NIR, Aadhaar, payment card (Luhn), IBAN (mod-97), IP address. A column is flagged as a
direct identifier when, in the real or the synthetic table,

- the best detector matches at least ``pii_share_threshold`` (default 0.5) of the sampled values, whatever
  the column is called; or
- in a text column, the values matching any detector reach that share together (a "contact" column mixing
  e-mails and phones): the detector reported is the one matching most; or
- the column name names an identifier (email, phone, ssn, iban, card, ip, ...) and the matching detector
  matches at least ``pii_name_hint_share_threshold`` (default 0.1) of them. The name also makes looser
  readings credible: a "phone" column accepts digits starting with a country code without "+" (as MSISDNs
  are stored), an "ssn" column of integers 7- or 8-digit SSNs whose leading zeros were lost; or
- the name says person name or street address (no format to check) and at least
  ``pii_share_threshold`` of the values look like one, with at least half of them distinct.

Each table's details say which detector matched most (``detector``, ``match_share``), the share of every
detector that matched something (``detector_shares``) and of the values any detector matched
(``any_match_share``).

Free text: in a text column that is not flagged, the sampled values are also searched for identifiers
embedded in longer text (``pii_detectors.find_embedded``: e-mail, phone numbers in any written format found
by ``phonenumbers.PhoneNumberMatcher`` (a bare run of digits only next to a word saying phone), dashed SSN,
card with Luhn, IBAN with mod-97); ``pii.free_text_columns`` counts the columns whose synthetic values
embed any.

Replay: for each flagged column, the number of distinct synthetic values (whole column, stripped text)
that also occur in the real column. Examples are masked: only the last two letters/digits (and an
e-mail's first letters and top-level domain) are shown.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.pii_detectors import (
    DETECTORS,
    NUMERIC_DETECTORS,
    digits_as_ssn_zeros_lost,
    find_embedded,
    is_phone_international_digits,
)
from registry.evaluation.prepare import PreparedData

MAX_EXAMPLES = 3
_NAME_HINTS = {
    "email": {"email", "mail", "emailaddress"},
    "phone": {"phone", "telephone", "tel", "mobile", "cell", "fax", "msisdn", "phonenumber"},
    "us_ssn": {"ssn", "social", "socialsecurity"},
    "uk_nino": {"nino", "nin", "nationalinsurance"},
    "es_dni": {"dni", "nie", "nif"},
    "fr_nir": {"nir", "insee", "securitesociale", "secu"},
    "in_aadhaar": {"aadhaar", "aadhar", "uidai"},
    "payment_card": {"card", "cc", "pan", "creditcard", "cardnumber"},
    "iban": {"iban", "bankaccount"},
    "ip_address": {"ip", "ipv4", "ipv6", "ipaddress"},
    "person_name": {"name", "firstname", "lastname", "surname", "fullname", "forename", "givenname"},
    "street_address": {"address", "street", "addr", "addressline"},
}
# Looser readings a column name makes credible; they add to the value detectors of that kind.
_BY_NAME_TEXT: dict[str, Callable[[str], bool]] = {"phone": is_phone_international_digits}
_BY_NAME_NUMERIC: dict[str, Callable[[str], bool]] = {
    "phone": is_phone_international_digits,
    "us_ssn": digits_as_ssn_zeros_lost,
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


def _first(values: list[str], hits: set[str]) -> list[str]:
    """The first MAX_EXAMPLES values (in sample order, repeats included) that are hits."""
    return list(itertools.islice((value for value in values if value in hits), MAX_EXAMPLES))


def _either(first: Callable[[str], bool], second: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda value: first(value) or second(value)


def _scan(text: pd.Series, numeric: bool, hint: str | None, sample: int, seed: int) -> dict:
    if len(text) > sample:
        text = text.iloc[np.sort(np.random.default_rng(seed).choice(len(text), size=sample, replace=False))]
    values = text.tolist()
    counts = Counter(values)  # each distinct value is checked once
    detectors = dict(NUMERIC_DETECTORS if numeric else DETECTORS)
    by_name = (_BY_NAME_NUMERIC if numeric else _BY_NAME_TEXT).get(hint or "")
    if by_name is not None:
        detectors[hint] = _either(detectors[hint], by_name)
    if hint in _WEAK and not numeric:
        detectors[hint] = _WEAK[hint].fullmatch
    shares, examples, matched = {}, {}, set()
    for kind, detect in detectors.items():
        hits = {value for value in counts if detect(value)}
        shares[kind] = sum(counts[value] for value in hits) / len(values) if values else 0.0
        examples[kind] = [mask(value, kind) for value in _first(values, hits)]
        if kind not in _WEAK:
            matched |= hits
    best = max(shares, key=lambda kind: shares[kind]) if shares else None
    embedded: dict[str, dict] = {}
    if not numeric:
        found = {value: find_embedded(value) for value in counts}
        for value in values:
            for kind, hits in found[value].items():
                entry = embedded.setdefault(kind, {"values": 0, "examples": []})
                entry["values"] += 1
                if len(entry["examples"]) < MAX_EXAMPLES:
                    entry["examples"].append(mask(hits[0], kind))
        for entry in embedded.values():
            entry["share"] = entry.pop("values") / len(values)
    return {
        "sampled": len(values),
        "distinct_share": len(counts) / len(values) if values else 0.0,
        "shares": shares,
        "any_share": sum(counts[value] for value in matched) / len(values) if values else 0.0,
        "best": best,
        "examples": examples,
        "embedded": embedded,
    }


def _flag(scan: dict, hint: str | None, numeric: bool, config: EvaluationConfig) -> str | None:
    shares = scan["shares"]
    if hint in _WEAK:
        weak_share = shares.get(hint, 0.0)
        if weak_share >= config.pii_share_threshold and scan["distinct_share"] >= 0.5:
            return hint
    strong = {kind: share for kind, share in shares.items() if kind not in _WEAK}
    best = max(strong, key=lambda kind: strong[kind]) if strong else None
    if best is not None and strong[best] >= config.pii_share_threshold:
        return best
    # Text mixing identifier kinds (e-mails and phones in one "contact" column); integers are left out:
    # the digits-only detectors take disjoint lengths, so a wide-ranging measurement would add them up.
    if best is not None and not numeric and strong[best] > 0 and scan["any_share"] >= config.pii_share_threshold:
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
            detector = detector or _flag(scan, hint, converted[1], config)
            best = scan["best"]
            report["tables"][label] = {
                "sampled": scan["sampled"],
                "detector": best,
                "match_share": scan["shares"].get(best, 0.0) if best else 0.0,
                "hint_match_share": scan["shares"].get(hint) if hint else None,
                "detector_shares": {kind: share for kind, share in scan["shares"].items() if share > 0},
                "any_match_share": scan["any_share"],
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
