"""Benchmark: recall of the PII kind's value detectors, and their false positives on columns without PII.

    DEBUG=true .venv/bin/python bench/pii_recall.py [--values 2000] [--column-rows 100] [--seed 0]

Realistic values per identifier kind are generated with Faker in several locales (en_US, en_GB, de_DE,
fr_FR, en_IN; es_ES, it_IT and nl_NL where a kind needs them) and written the ways people write them:

- phones: Faker's ``phone_number()`` per locale, as Faker writes them (en_US with extensions, ``+1-`` and
  ``001-`` prefixes, parentheses, dots; en_GB landlines and, one in four, ``cellphone_number()``);
- e-mails: ``email``, ``free_email``, ``company_email``, ``ascii_safe_email``;
- national ids: US SSN (Faker), Spanish DNI/NIE (Faker), French NIR (Faker), UK NINO and Aadhaar built
  from Faker's random letters and digits (Faker's en_GB ``ssn()`` writes placeholder "ZZ…T" numbers HMRC
  never issues, and its ``aadhaar_id()`` ends with a Luhn digit where UIDAI uses Verhoeff); compact or
  with separators;
- cards: every Faker card type, compact or grouped with spaces or dashes; IBANs: GB, DE, FR, ES, IT, NL,
  compact or in groups of four (Faker's en_IN IBAN is malformed); IP addresses: public and private IPv4,
  IPv6, CIDR networks.

Each kind's values are cut into columns of ``--column-rows`` values with meaningless names (``col_00``,
...) and the PII kind runs on them through ``run_evaluation`` (default config: ``pii_sample_rows`` 1000,
``pii_share_threshold`` 0.5), so no name hint helps.

- **column-level flag**: share of the kind's columns flagged with one of the kind's detectors; for the
  free-text rows, share of the note columns listed in ``pii.free_text_columns``.
- **per-value detector**: share of the values the kind's detector accepts (free text: of the notes in
  which ``find_embedded`` finds a phone). For phones the notes say how many misses ``phonenumbers``
  itself finds invalid in the country of the Faker locale that wrote them.
- **non-PII rows** (false positives): every column of UCI Adult (``data/demo/adult.csv.gz`` read with
  pandas), and generated integers, floats, dates, zip codes, prices and notes without identifiers. There
  the column-level rate is the share of columns flagged (or reported as free text), the per-value rate the
  share of values any detector accepts (the integer detectors for integer columns, as the kind does).
- **ambiguous row**: uniformly random 9- and 10-digit integers, which are shaped like SSNs and phone
  numbers stored as numbers; reported apart.

Nothing is asserted; the numbers are what this run measured. Everything is seeded.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
from faker import Faker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _machine import summary  # noqa: E402  - bench/ is on sys.path when this file runs as a script

from registry.evaluation.engine import EvaluationConfig, run_evaluation  # noqa: E402
from registry.evaluation.pii import _as_text  # noqa: E402
from registry.evaluation.pii_detectors import (  # noqa: E402
    DETECTORS,
    NUMERIC_DETECTORS,
    find_embedded,
    iban_valid,
    is_email,
    is_es_dni,
    is_fr_nir,
    is_in_aadhaar,
    is_ip_address,
    is_payment_card,
    is_phone,
    is_uk_nino,
    is_us_ssn,
    verhoeff_valid,
)

ADULT = REPO / "data" / "demo" / "adult.csv.gz"
PHONE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "en_IN")
NATIONAL_IDS = {"us_ssn", "uk_nino", "es_dni", "fr_nir", "in_aadhaar"}
# HMRC: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; BG, GB, KN, NK, NT, TN, ZZ unused.
_NINO_FIRST, _NINO_SECOND = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"


def _fakers(locales: tuple[str, ...], seed: int) -> list[Faker]:
    fakers = []
    for offset, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + offset)
        fakers.append(fake)
    return fakers


def _round_robin(fakers: list[Faker], count: int, make: Callable[[Faker, int], str]) -> list[str]:
    return [make(fakers[i % len(fakers)], i) for i in range(count)]


def _grouped(value: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(value[start : start + size])
        start += size
    if start < len(value):
        parts.append(value[start:])
    return separator.join(part for part in parts if part)


def phones(count: int, seed: int) -> dict[str, list[str]]:
    """Faker's phone numbers per locale (en_GB: landlines and mobiles), as Faker writes them."""
    out = {}
    for offset, locale in enumerate(PHONE_LOCALES):
        (fake,) = _fakers((locale,), seed + 10 * offset)
        per_locale = count // len(PHONE_LOCALES)
        if locale == "en_GB":
            out[locale] = [fake.phone_number() if i % 4 else fake.cellphone_number() for i in range(per_locale)]
        else:
            out[locale] = [fake.phone_number() for _ in range(per_locale)]
    return out


def emails(count: int, seed: int) -> list[str]:
    makers = ("email", "free_email", "company_email", "ascii_safe_email")
    return _round_robin(_fakers(PHONE_LOCALES, seed), count, lambda f, i: getattr(f, makers[i % len(makers)])())


def _nino(fake: Faker, i: int) -> str:
    # Faker's en_GB ssn() writes placeholder "ZZ..T" numbers that HMRC never issues; these follow its rules.
    while True:
        prefix = fake.random_element(_NINO_FIRST) + fake.random_element(_NINO_SECOND)
        if prefix not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            break
    digits = fake.numerify("######")
    suffix = fake.random_element("ABCD")
    return f"{prefix} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}" if i % 2 else f"{prefix}{digits}{suffix}"


def _aadhaar(fake: Faker) -> str:
    # Faker's en_IN aadhaar_id() ends with a Luhn digit and may start with 1; UIDAI numbers start with 2-9
    # and end with a Verhoeff check digit: Faker's digits, the check digit that makes the number valid.
    body = fake.numerify("%##########")
    body = str(max(2, int(body[0]))) + body[1:]
    return next(body + digit for digit in "0123456789" if verhoeff_valid(body + digit))


def national_ids(count: int, seed: int) -> list[str]:
    """US SSN, UK NINO, Spanish DNI/NIE, French NIR, Aadhaar; compact or with separators."""
    us, gb, es, fr, india = _fakers(("en_US", "en_GB", "es_ES", "fr_FR", "en_IN"), seed)

    def make(i: int) -> str:
        which = i % 5
        if which == 0:
            ssn = us.ssn()
            return ssn if i % 3 else ssn.replace("-", "")
        if which == 1:
            return _nino(gb, i)
        if which == 2:
            return es.nif() if i % 2 else es.nie()
        if which == 3:
            nir = fr.ssn()
            return _grouped(nir, (1, 2, 2, 2, 3, 3, 2), " ") if i % 2 else nir
        aadhaar = _aadhaar(india)
        return _grouped(aadhaar, (4, 4, 4), " ") if i % 2 else aadhaar

    return [make(i) for i in range(count)]


def cards(count: int, seed: int) -> list[str]:
    """Every Faker card type; compact, in groups of four with spaces, or with dashes."""

    def make(fake: Faker, i: int) -> str:
        number = fake.credit_card_number()
        sizes = (4, 6, 5) if len(number) == 15 else (4, 4, 4, 4)
        return (number, _grouped(number, sizes, " "), _grouped(number, sizes, "-"))[i % 3]

    return _round_robin(_fakers(PHONE_LOCALES, seed), count, make)


def ibans(count: int, seed: int) -> list[str]:
    """IBANs of GB, DE, FR, ES, IT, NL; compact or in groups of four (Faker's en_IN IBAN is malformed)."""

    def make(fake: Faker, i: int) -> str:
        iban = fake.iban()
        return _grouped(iban, (4,) * 8, " ") if i % 2 else iban

    locales = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
    return _round_robin(_fakers(locales, seed), count, make)


def ip_addresses(count: int, seed: int) -> list[str]:
    makers = (
        lambda f: f.ipv4_public(),
        lambda f: f.ipv4_private(),
        lambda f: f.ipv6(),
        lambda f: f.ipv4(network=True),
    )
    return _round_robin(_fakers(("en_US",), seed), count, lambda f, i: makers[i % len(makers)](f))


_NOTE_TEMPLATES = (
    "Customer called from {} about the invoice, please call back.",
    "Left a voicemail on {}; no answer yet",
    "New number: {} (mobile)",
    "Reached via {} after 5pm. Wants a refund.",
    "Call {} before Friday",
)
_PLAIN_NOTES = (
    "Order {n} shipped on {date} at 14:30, total ${price}.",
    "Ticket #{n} closed {date}; refund of {price} EUR approved.",
    "Visited on {date}, room 4{k}, follow-up in 3 weeks.",
    "Batch {n}-{k} received {date}, weight {price} kg",
    "Meeting moved to {date} 09:15, building {k}, floor 3",
)


def phone_notes(count: int, seed: int) -> list[str]:
    numbers = [value for locale_values in phones(count, seed).values() for value in locale_values]
    return [_NOTE_TEMPLATES[i % len(_NOTE_TEMPLATES)].format(number) for i, number in enumerate(numbers)]


def plain_notes(count: int, seed: int) -> list[str]:
    generator = np.random.default_rng(seed)
    dates = pd.Timestamp("2015-01-01") + pd.to_timedelta(generator.integers(0, 3650, count), unit="D")
    return [
        _PLAIN_NOTES[i % len(_PLAIN_NOTES)].format(
            n=int(generator.integers(10_000, 99_999_999_999)),
            k=int(generator.integers(1, 99)),
            date=(date.strftime("%Y-%m-%d") if i % 2 else date.strftime("%d/%m/%Y")),
            price=f"{generator.lognormal(4, 1.5):,.2f}",
        )
        for i, date in enumerate(dates)
    ]


def non_pii_columns(rows: int, seed: int) -> pd.DataFrame:
    """Integers, floats, dates, zip codes and prices as tables hold them."""
    generator = np.random.default_rng(seed)
    us, gb, de, fr, india = _fakers(PHONE_LOCALES, seed)
    dates = pd.Timestamp("1950-01-01") + pd.to_timedelta(generator.integers(0, 27_000, rows), unit="D")
    prices = np.round(generator.lognormal(3, 1.5, rows), 2)
    return pd.DataFrame(
        {
            "int_age": generator.integers(0, 100, rows),
            "int_count": generator.poisson(12, rows),
            "int_year": generator.integers(1900, 2030, rows),
            "int_zip5": generator.integers(501, 99_951, rows),
            "int_fnlwgt_like": np.round(generator.lognormal(12, 0.6, rows)).astype(np.int64).clip(10_000, 1_500_000),
            "int_revenue_7digit": generator.integers(1_000_000, 10_000_000, rows),
            "int_timestamp_s": generator.integers(946_684_800, 1_767_225_600, rows),
            "int_timestamp_ms": generator.integers(946_684_800_000, 1_767_225_600_000, rows),
            "float_normal": generator.normal(50, 20, rows),
            "float_price": prices,
            "float_ratio": generator.random(rows),
            "date_iso": dates.strftime("%Y-%m-%d"),
            "date_eu": dates.strftime("%d.%m.%Y"),
            "date_us": dates.strftime("%m/%d/%Y"),
            "date_fr": dates.strftime("%d/%m/%Y"),
            "datetime_iso": (dates + pd.to_timedelta(generator.integers(0, 86_400, rows), unit="s")).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            "datetime64": dates,
            "zip_us": [us.postcode() for _ in range(rows)],
            "zip_us_plus4": [us.zipcode_plus4() for _ in range(rows)],
            "zip_gb": [gb.postcode() for _ in range(rows)],
            "zip_de": [de.postcode() for _ in range(rows)],
            "zip_fr": [fr.postcode() for _ in range(rows)],
            "zip_in": [india.postcode() for _ in range(rows)],
            "price_text": [f"{price:.2f}" for price in prices],
            "price_usd": [f"${price:,.2f}" for price in prices],
            "price_eur": [f"{price:,.2f} €".replace(",", " ").replace(".", ",") for price in prices],
            "price_thousands": [f"{price * 1000:,.0f}" for price in prices],
            "price_thousands_dots": [f"{price * 1000:,.0f}".replace(",", ".") for price in prices],
        }
    )


def ambiguous_columns(rows: int, seed: int) -> pd.DataFrame:
    """Integers whose digits are shaped like identifiers stored as numbers (reported apart)."""
    generator = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "int_9digit": generator.integers(100_000_000, 1_000_000_000, rows),
            "int_10digit": generator.integers(1_000_000_000, 10_000_000_000, rows),
            "text_10digit": [str(value) for value in generator.integers(1_000_000_000, 10_000_000_000, rows)],
        }
    )


def _table(values: list[str], column_rows: int) -> pd.DataFrame:
    columns = len(values) // column_rows
    return pd.DataFrame(
        {f"col_{i:02d}": values[i * column_rows : (i + 1) * column_rows] for i in range(columns)}, dtype=object
    )


def _pii(table: pd.DataFrame) -> dict:
    columns = [{"name": name, "dtype": str(table[name].dtype)} for name in table.columns]
    result = run_evaluation(table, table.copy(), columns=columns, config=EvaluationConfig(kinds=("pii",)))
    return result.results["pii"]


def _any_detector(series: pd.Series) -> tuple[int, int]:
    """(values any detector accepts, values checked), as the PII kind reads the column."""
    converted = _as_text(series)
    if converted is None or converted[0].empty:
        return 0, 0
    text, numeric = converted
    detectors = NUMERIC_DETECTORS if numeric else DETECTORS
    counts = text.value_counts()
    hits = sum(int(count) for value, count in counts.items() if any(detect(value) for detect in detectors.values()))
    return hits, int(counts.sum())


def _rate(part: int, whole: int) -> str:
    if not whole:
        return "—"
    share = part / whole
    return f"{share:.2%} ({part:,}/{whole:,})" if 0 < share < 0.01 else f"{share:.1%} ({part:,}/{whole:,})"


def _own_region_note(values: list[str], regions: list[str]) -> str:
    """How many of the values phonenumbers itself finds invalid in the country whose Faker wrote them."""
    invalid = 0
    for value, region in zip(values, regions, strict=True):
        try:
            invalid += not phonenumbers.is_valid_number(phonenumbers.parse(value, region))
        except phonenumbers.NumberParseException:
            invalid += 1
    return f"{invalid:,} of the {len(values):,} misses are not valid numbers of their locale's country"


def recall_row(
    kind: str,
    values: list[str],
    detect: Callable[[str], bool],
    detectors: set[str],
    rows: int,
    regions: list[str] | None = None,
) -> str:
    started = time.perf_counter()
    accepted = [detect(value) for value in values]
    table = _table(values, rows)
    pii = _pii(table)
    reports = {entry["column"]: entry for entry in pii["columns"]}
    flagged = sum(1 for name in table.columns if reports.get(name, {}).get("detector") in detectors)
    misses = [i for i, ok in enumerate(accepted) if not ok]
    note = "no miss"
    if misses:
        note = f"misses e.g. {', '.join(repr(values[i]) for i in misses[:3])}"
        if regions is not None:
            note += "; " + _own_region_note([values[i] for i in misses], [regions[i] for i in misses])
    seconds = time.perf_counter() - started
    return (
        f"| {kind} | {len(values):,} | {table.shape[1]} | {_rate(flagged, table.shape[1])} | "
        f"{_rate(sum(accepted), len(values))} | {note}; {seconds:.1f} s |"
    )


def free_text_row(kind: str, notes: list[str], rows: int, expect_phone: bool) -> str:
    started = time.perf_counter()
    found = [("phone" in find_embedded(note)) if expect_phone else bool(find_embedded(note)) for note in notes]
    table = _table(notes, rows)
    pii = _pii(table)
    reported = len(pii["free_text_columns"]) + len(pii["flagged_columns"])
    misses = [note for note, ok in zip(notes, found, strict=True) if ok != expect_phone]
    label, none = ("misses", "no miss") if expect_phone else ("false hits", "no false hit")
    note = f"{label} e.g. {', '.join(repr(value) for value in misses[:2])}" if misses else none
    seconds = time.perf_counter() - started
    return (
        f"| {kind} | {len(notes):,} | {table.shape[1]} | {_rate(reported, table.shape[1])} | "
        f"{_rate(sum(found), len(notes))} | {note}; {seconds:.1f} s |"
    )


def false_positive_row(kind: str, table: pd.DataFrame) -> str:
    started = time.perf_counter()
    pii = _pii(table)
    reported = sorted(set(pii["flagged_columns"]) | set(pii["free_text_columns"]))
    hits = [_any_detector(table[name]) for name in table.columns]
    matched, checked = sum(hit for hit, _ in hits), sum(total for _, total in hits)
    by_column = {name: hit for name, (hit, _) in zip(table.columns, hits, strict=True) if hit}
    detail = f"flagged: {', '.join(reported)}" if reported else "nothing flagged"
    if by_column:
        detail += "; values matched in " + ", ".join(f"{name} ({count:,})" for name, count in by_column.items())
    seconds = time.perf_counter() - started
    return (
        f"| {kind} | {checked:,} | {table.shape[1]} | {_rate(len(reported), table.shape[1])} | "
        f"{_rate(matched, checked)} | {detail}; {seconds:.1f} s |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--values", type=int, default=2000, help="values per identifier kind")
    parser.add_argument("--column-rows", type=int, default=100, help="values per generated column")
    parser.add_argument("--non-pii-rows", type=int, default=2000, help="rows of the generated non-PII columns")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    count, rows, seed = args.values, args.column_rows, args.seed

    by_locale = phones(count, seed)
    all_phones = [value for values in by_locale.values() for value in values]
    all_regions = [locale[-2:] for locale, values in by_locale.items() for _ in values]
    lines = [
        f"Machine: {summary()}",
        "",
        "| kind | values | columns | column-level flag | per-value detector | notes |",
        "|---|---:|---:|---:|---:|---|",
        recall_row("phone (all locales)", all_phones, is_phone, {"phone"}, rows, all_regions),
    ]
    for locale, values in by_locale.items():
        regions = [locale[-2:]] * len(values)
        lines.append(recall_row(f"phone ({locale})", values, is_phone, {"phone"}, rows, regions))
    national_id = (is_us_ssn, is_uk_nino, is_es_dni, is_fr_nir, is_in_aadhaar)
    non_pii = non_pii_columns(args.non_pii_rows, seed)
    lines += [
        recall_row("e-mail", emails(count, seed), is_email, {"email"}, rows),
        recall_row(
            "national id (SSN, NINO, DNI/NIE, NIR, Aadhaar)",
            national_ids(count, seed),
            lambda value: any(detect(value) for detect in national_id),
            NATIONAL_IDS,
            rows,
        ),
        recall_row("payment card (Luhn)", cards(count, seed), is_payment_card, {"payment_card"}, rows),
        recall_row("IBAN (mod-97)", ibans(count, seed), iban_valid, {"iban"}, rows),
        recall_row("IP address (v4, v6, CIDR)", ip_addresses(count, seed), is_ip_address, {"ip_address"}, rows),
        free_text_row("phone in free text", phone_notes(count, seed), rows, expect_phone=True),
        false_positive_row("non-PII: UCI Adult, every column", pd.read_csv(ADULT)),
        false_positive_row("non-PII: generated integers, floats, dates, zips, prices", non_pii),
        free_text_row("non-PII: notes with dates, amounts, order numbers", plain_notes(count, seed), rows, False),
        false_positive_row("ambiguous: random 9/10-digit integers", ambiguous_columns(args.non_pii_rows, seed)),
    ]
    lines += [
        "",
        "PII rows: both rates are recall (column flagged with the kind's detector; values the detector accepts).",
        "non-PII and ambiguous rows: both rates are false positives (columns flagged or reported as free text;",
        "values any detector accepts). Columns have meaningless names: no name hint helps.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
