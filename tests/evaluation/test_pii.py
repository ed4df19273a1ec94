"""PII detectors (with their checksums), the column scan and the replay count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.evaluation.pii import mask, name_hint
from registry.evaluation.pii_detectors import (
    NUMERIC_DETECTORS,
    digits_as_ssn_zeros_lost,
    find_embedded,
    find_phones,
    iban_valid,
    is_email,
    is_es_dni,
    is_fr_nir,
    is_in_aadhaar,
    is_ip_address,
    is_payment_card,
    is_phone,
    is_phone_international_digits,
    is_uk_nino,
    is_us_ssn,
    luhn_valid,
    parse_phone,
    verhoeff_valid,
)


@pytest.mark.parametrize(
    ("detector", "positives", "negatives"),
    [
        (
            is_email,
            ["jane.doe@example.com", "a+b@mail.co.uk", "mailto:jane@example.org", "Jane Doe <jane@example.org>"],
            ["jane.doe@", "example.com", "a@b", "x y@z.com", "Jane <not an address>"],
        ),
        (
            is_phone,
            [
                "+14155552671",
                "+44 20 7946 0958",
                "(415) 555-2671",
                "415-555-2671",
                "07911 123456",
                "01 23 45 67 89",
                # The formats the old regex missed: extensions, 001-/0044/011 prefixes, dots, "(0)".
                "415-555-2671x141",
                "(555) 123-4567 ext. 12",
                "555.123.4567",
                "001-415-555-2671x1234",
                "+1-415-555-2671",
                "0044 20 7946 0958",
                "011 44 20 7946 0958",
                "+44(0)113 496 0123",
                "(0113) 496 0123",
                "+49 (0) 30 12345678",
                "030/12345678",
                "+33 1 23 45 67 89",
                "+91 98765 43210",
                "4155552671",
            ],
            [
                "12345",
                "555-2671",
                "+1",
                "2023-01-15",
                "1234567890123456789",
                # Integers, dates, amounts, codes written like numbers: never phones.
                "1234567890",
                "20230115",
                "1484705",
                "15.01.2023",
                "01/15/2023",
                "12345-6789",
                "1.234.567.890",
                "123456.78",
                "-4155552671",
                "192.168.100.200",
                "078-05-1120",
                "415-555-2671 call me",
            ],
        ),
        (
            is_us_ssn,
            ["078-05-1120", "219099999", "123 45 6789"],
            ["000-12-3456", "666-12-3456", "912-12-3456"],
        ),
        (is_us_ssn, [], ["123-00-4567", "123-45-0000", "123-45 6789"]),
        (is_uk_nino, ["AB123456C", "ab 12 34 56 d"], ["BG123456C", "AB123456E", "DA123456C", "AB12345C"]),
        (is_es_dni, ["12345678Z", "X1234567L"], ["12345678A", "X1234567M", "1234567Z"]),
        (
            is_fr_nir,
            ["255081416802538", "2 55 08 14 168 025 38", "250112A00423853"],
            ["255081416802539", "355081416802538", "255131416802538", "25508141680253"],
        ),
        (is_in_aadhaar, ["234123412346", "2341 2341 2346"], ["234123412345", "123412341234", "23412341234"]),
        (
            is_payment_card,
            [
                "4111 1111 1111 1111",
                "5500-0000-0000-0004",
                "378282246310005",
                "6011111111111117",
                "6759649826438453",  # Maestro
                "3530111333300000",  # JCB
            ],
            ["4111 1111 1111 1112", "1234567812345670", "0000000000000000", "41111111111"],
        ),
        (
            iban_valid,
            ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606"],
            ["GB82 WEST 1234 5698 7654 33", "DE8937040044053201300", "XX00", "DE00370400440532013000"],
        ),
        (
            is_ip_address,
            ["192.168.1.20", "8.8.8.8", "2001:db8::1", "::1", "10.0.0.0/8"],
            ["256.1.1.1", "1.2.3", "abc", "12:34"],
        ),
    ],
)
def test_detectors_accept_valid_and_reject_invalid_values(detector, positives, negatives):
    assert all(detector(value) for value in positives), [v for v in positives if not detector(v)]
    assert not any(detector(value) for value in negatives), [v for v in negatives if detector(v)]


def test_luhn_and_numeric_detectors():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    # A 9-digit integer can be an SSN; one stored as a number that lost its leading zeros (7-8 digits)
    # counts only where the column name says SSN: every 7- or 8-digit integer would pass otherwise.
    assert NUMERIC_DETECTORS["us_ssn"]("219099999") and not NUMERIC_DETECTORS["us_ssn"]("966123456")
    assert not NUMERIC_DETECTORS["us_ssn"]("78051120") and digits_as_ssn_zeros_lost("78051120")
    assert not NUMERIC_DETECTORS["us_ssn"]("123456") and not NUMERIC_DETECTORS["us_ssn"]("1484705")
    assert NUMERIC_DETECTORS["payment_card"]("4111111111111111")
    assert NUMERIC_DETECTORS["phone"]("4155552671") and not NUMERIC_DETECTORS["phone"]("1234567890")
    assert NUMERIC_DETECTORS["fr_nir"]("255081416802538") and NUMERIC_DETECTORS["in_aadhaar"]("234123412346")
    assert verhoeff_valid("2363") and not verhoeff_valid("2364")
    # A country code without "+" (MSISDN): only where the name says phone.
    assert is_phone_international_digits("447911123456") and not is_phone("447911123456")
    assert not is_phone_international_digits("123456789012")


def test_phone_numbers_are_parsed_with_their_country_and_extension():
    number = parse_phone("001-415-555-2671x141")
    assert (number.country_code, number.national_number, number.extension) == (1, 4155552671, "141")
    number = parse_phone("+44(0)20 7946 0958")
    assert (number.country_code, number.national_number, number.extension) == (44, 2079460958, None)
    number = parse_phone("01 23 45 67 89")
    assert (number.country_code, number.national_number) == (33, 123456789)
    assert parse_phone("2023-01-15") is None


def test_names_and_masks():
    assert name_hint("E_Mail") == "email"
    assert name_hint("customerPhoneNumber") == "phone"
    assert name_hint("credit_card_no") == "payment_card"
    assert name_hint("native_country") is None
    assert mask("jane.doe@example.com", "email") == "j***@e***.com"
    assert mask("078-05-1120") == "***-**-**20"
    assert mask("1234") == "****"


def test_adult_has_no_pii(adult, adult_schema):
    real = adult.sample(3000, random_state=51)
    synthetic = adult.sample(3000, random_state=52)
    result = run_evaluation(real, synthetic, columns=adult_schema, config=EvaluationConfig(kinds=("pii",)))
    assert result.metrics == {"pii.columns": 0, "pii.replayed_values": 0, "pii.free_text_columns": 0}
    assert result.results["pii"]["flagged_columns"] == []


def _people(rows: int, seed: int) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "email": [f"user{i}@example.org" for i in generator.choice(100_000, rows, replace=False)],
            "ssn": [
                int(f"{a:03d}{b:02d}{c:04d}") for a, b, c in generator.integers([1, 1, 1], [665, 99, 9999], (rows, 3))
            ],
            "age": generator.integers(18, 90, rows),
            "city": generator.choice(["Lyon", "Porto", "Gent"], rows),
        }
    )


def test_copied_email_column_is_flagged_and_replay_counted(schema_for):
    real = _people(400, seed=1)
    synthetic = _people(300, seed=2)
    synthetic.loc[:49, "email"] = real.loc[:49, "email"].to_numpy()  # 50 real addresses replayed
    synthetic.loc[50:59, "email"] = real.loc[0:9, "email"].to_numpy()  # repeats: distinct values count once
    sdtypes = {"email": "id", "ssn": "numerical", "age": "numerical", "city": "categorical"}
    result = run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=EvaluationConfig(kinds=("pii",)))
    columns = {entry["column"]: entry for entry in result.results["pii"]["columns"]}
    assert columns["email"]["flagged"] and columns["email"]["detector"] == "email"
    assert columns["email"]["replayed_values"] == 50
    # Numbers named "ssn" whose digits are valid SSNs: flagged as an identifier too.
    assert columns["ssn"]["flagged"] and columns["ssn"]["detector"] == "us_ssn"
    assert "age" not in columns and "city" not in columns
    assert result.metrics["pii.columns"] == 2
    assert result.metrics["pii.replayed_values"] == 50 + columns["ssn"]["replayed_values"]
    examples = columns["email"]["tables"]["synthetic"]["examples"]
    assert examples and all("***" in example for example in examples)
    assert not any(value in str(result) for value in real["email"])


def test_identifiers_inside_free_text_are_found_and_checked():
    text = "Call +44 20 7946 0958 or write to jane.doe@example.org; card 4111 1111 1111 1111, not 4111 1111 1111 1112"
    assert find_embedded(text) == {
        "email": ["jane.doe@example.org"],
        "phone": ["+44 20 7946 0958"],
        "payment_card": ["4111 1111 1111 1111"],
    }
    assert find_embedded("SSN 078-05-1120, IBAN GB82 WEST 1234 5698 7654 32.") == {
        "us_ssn": ["078-05-1120"],
        "iban": ["GB82 WEST 1234 5698 7654 32"],
    }
    # Order numbers, dates, local phone numbers and bad check digits are not identifiers.
    assert (
        find_embedded("order 12345678901234 on 2026-01-02, call 555-1234, SSN 000-12-3456, GB00WEST12345698765432")
        == {}
    )


def test_a_notes_column_that_leaks_identifiers_is_reported(schema_for):
    real = _people(200, seed=3)
    synthetic = _people(200, seed=4)
    for frame in (real, synthetic):
        frame["notes"] = ["called back, all fine"] * len(frame)
    synthetic.loc[:9, "notes"] = [f"customer asked to mail user{i}@example.org the invoice" for i in range(10)]
    sdtypes = {"email": "id", "ssn": "numerical", "age": "numerical", "city": "categorical", "notes": "id"}
    result = run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=EvaluationConfig(kinds=("pii",)))
    pii = result.results["pii"]
    columns = {entry["column"]: entry for entry in pii["columns"]}
    assert (result.metrics["pii.free_text_columns"], pii["free_text_columns"]) == (1, ["notes"])
    notes = columns["notes"]
    assert (notes["flagged"], notes["free_text_identifiers"]) == (False, ["email"])
    embedded = notes["tables"]["synthetic"]["embedded"]["email"]
    assert (embedded["share"], embedded["examples"]) == (0.05, ["u***@e***.org"] * 3)
    assert notes["tables"]["reference"]["embedded"] == {}
    # A column flagged as a whole (the email column) is not counted again as free text.
    assert columns["email"]["free_text_identifiers"] == []


def _pii(real: pd.DataFrame, synthetic: pd.DataFrame, schema_for) -> dict:
    sdtypes = {name: "categorical" if real[name].dtype == object else "numerical" for name in real.columns}
    result = run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=EvaluationConfig(kinds=("pii",)))
    return {"metrics": result.metrics, **result.results["pii"]}


_PHONE_FORMATS = [
    "415-555-{:04d}x141",  # extension
    "001-415-555-{:04d}",  # international prefix as dialled from Europe
    "(555) 123-{:04d}",  # parentheses
    "555.234.{:04d}",  # dots
    "+44 20 7946 {:04d}",  # international
    "+1-212-555-{:04d}x12",
    "0113 496 {:04d}",  # UK national
    "+49 (0) 30 1234{:04d}",
    "01 23 45 {:02d} {:02d}",  # French national
    "(0114) 496{:04d}",
]


def _phones(rows: int, offset: int) -> list[str]:
    values = []
    for i in range(rows):
        template = _PHONE_FORMATS[i % len(_PHONE_FORMATS)]
        n = offset + i
        values.append(template.format(n % 100, n // 100 % 100) if "{:02d}" in template else template.format(n))
    return values


def test_a_phone_column_is_flagged_by_its_values_whatever_its_name(schema_for):
    real = pd.DataFrame({"contact_b": _phones(200, 0), "visits": np.arange(200) % 7})
    synthetic = pd.DataFrame({"contact_b": _phones(150, 5000), "visits": np.arange(150) % 5})
    pii = _pii(real, synthetic, schema_for)
    assert pii["metrics"] == {"pii.columns": 1, "pii.replayed_values": 0, "pii.free_text_columns": 0}
    assert pii["flagged_columns"] == ["contact_b"]
    (column,) = pii["columns"]
    assert (column["column"], column["name_hint"], column["detector"]) == ("contact_b", None, "phone")
    for label, table in column["tables"].items():
        assert (table["detector"], table["match_share"], table["any_match_share"]) == ("phone", 1.0, 1.0), label
        assert table["detector_shares"] == {"phone": 1.0}
    assert column["tables"]["reference"]["examples"] == ["***-***-******41", "***-***-***-**01", "(***) ***-**02"]


def test_emails_ibans_and_cards_are_flagged_under_meaningless_names(schema_for):
    ibans = ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606"]
    cards = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"]
    # An e-mail or a phone: a contact column mixing both kinds is an identifier as a whole.
    contacts = [f"user{i}@example.org" if i % 2 else f"+1-415-555-{i:04d}" for i in range(120)]
    real = pd.DataFrame(
        {
            "field_1": [f"person{i}@example.com" for i in range(120)],
            "x": [ibans[i % 3] for i in range(120)],
            "attr": [cards[i % 4] for i in range(120)],
            "c": contacts,
            "misc": ["n/a", "yes", "no"] * 40,
        }
    )
    pii = _pii(real, real.copy(), schema_for)
    assert pii["flagged_columns"] == ["field_1", "x", "attr", "c"]
    columns = {entry["column"]: entry for entry in pii["columns"]}
    assert {name: columns[name]["detector"] for name in pii["flagged_columns"]} == {
        "field_1": "email",
        "x": "iban",
        "attr": "payment_card",
        "c": "email",
    }
    contact = columns["c"]["tables"]["reference"]
    assert (contact["detector_shares"], contact["any_match_share"]) == ({"email": 0.5, "phone": 0.5}, 1.0)
    assert "misc" not in columns
    assert pii["metrics"] == {"pii.columns": 4, "pii.replayed_values": 120 + 3 + 4 + 120, "pii.free_text_columns": 0}


def test_adult_columns_have_no_identifier_value_at_all(adult, adult_schema):
    result = run_evaluation(adult, adult, columns=adult_schema, config=EvaluationConfig(kinds=("pii",)))
    # Not one sampled value of any Adult column matches a detector, fnlwgt above a million included.
    assert result.results["pii"]["columns"] == []
    assert result.metrics == {"pii.columns": 0, "pii.replayed_values": 0, "pii.free_text_columns": 0}


def test_plain_integers_are_not_identifiers(schema_for):
    generator = np.random.default_rng(8)
    rows = 1500
    frame = pd.DataFrame(
        {
            "a": generator.integers(17, 91, rows),  # ages
            "b": generator.integers(1900, 2031, rows),  # years
            "c": generator.integers(10_000, 99_999, rows),  # 5-digit zip codes
            "d": generator.integers(12_000, 1_500_000, rows),  # fnlwgt-like weights
            "e": generator.integers(1_000_000, 10_000_000, rows),  # 7-digit amounts
            "f": generator.integers(0, 10**6, rows).astype(str),  # counts as text
            "g": [f"{value:05d}" for value in generator.integers(501, 99_951, rows)],  # zip codes as text
            "h": [f"{value:.2f}" for value in generator.lognormal(3, 1.5, rows)],  # prices as text
        }
    )
    pii = _pii(frame, frame.sample(frac=1, random_state=1).reset_index(drop=True), schema_for)
    assert pii["columns"] == []
    assert pii["metrics"] == {"pii.columns": 0, "pii.replayed_values": 0, "pii.free_text_columns": 0}


def test_phones_written_in_running_text_are_found():
    text = "Call 555.123.4567 x12 or +44 20 7946 0958 (office: 0113 496 0123), fax 001-415-555-2671."
    assert find_phones(text) == ["555.123.4567 x12", "+44 20 7946 0958", "0113 496 0123", "001-415-555-2671"]
    # A bare run of digits is a phone only next to a word that says so; dates and amounts never are.
    assert find_phones("reach me on 4155552671") == ["4155552671"]
    assert find_phones("order 4155552671 shipped 2024-01-02, total 1,234,567.00") == []
    # Identifiers of other kinds found first are not read again as phones.
    assert find_embedded("SSN 078-05-1120, card 4111-1111-1111-1111, tel. 030 1234567") == {
        "phone": ["030 1234567"],
        "us_ssn": ["078-05-1120"],
        "payment_card": ["4111-1111-1111-1111"],
    }


def test_a_notes_column_with_phones_in_running_text_is_reported(schema_for):
    real = pd.DataFrame({"notes": ["called back, all fine"] * 100, "age": np.arange(100) % 60 + 18})
    synthetic = real.copy()
    synthetic.loc[:29, "notes"] = (
        [f"customer asked us to call (555) 123-{i:04d} ext. 7 tomorrow" for i in range(10)]
        + [f"new mobile: +44 7700 900{i:03d}, old one disconnected" for i in range(10)]
        + [f"Rückruf unter 030 1234{i:04d} erbeten" for i in range(10)]
    )
    pii = _pii(real, synthetic, schema_for)
    assert (pii["metrics"]["pii.free_text_columns"], pii["free_text_columns"], pii["flagged_columns"]) == (
        1,
        ["notes"],
        [],
    )
    (notes,) = pii["columns"]
    assert (notes["column"], notes["flagged"], notes["free_text_identifiers"]) == ("notes", False, ["phone"])
    embedded = notes["tables"]["synthetic"]["embedded"]["phone"]
    # All 30 notes found (3 formats), examples masked down to the last two characters.
    assert (embedded["share"], embedded["examples"]) == (0.3, ["(***) ***-**** ***. 7"] * 3)
    assert notes["tables"]["reference"]["embedded"] == {}


def test_a_name_makes_looser_readings_count_but_is_never_needed(schema_for):
    # SSNs stored as numbers, areas 001-099 (7-8 digits once the leading zeros are lost); MSISDNs.
    ssns = [int(f"0{i + 1:02d}{i + 10:02d}{i + 1001:04d}") for i in range(89)]
    msisdns = [f"4479111{i:05d}" for i in range(len(ssns))]
    north_american = [int(f"415555{i:04d}") for i in range(len(ssns))]  # phones stored as integers
    frame = pd.DataFrame({"ssn": ssns, "v1": ssns, "msisdn": msisdns, "v2": msisdns, "v3": north_american})
    pii = _pii(frame, frame.copy(), schema_for)
    assert pii["flagged_columns"] == ["ssn", "msisdn", "v3"]
    columns = {entry["column"]: entry for entry in pii["columns"]}
    assert {name: columns[name]["detector"] for name in pii["flagged_columns"]} == {
        "ssn": "us_ssn",
        "msisdn": "phone",
        "v3": "phone",
    }
    # Unnamed, 7-8-digit integers are not SSNs; the MSISDN strings only look like Aadhaar numbers by chance
    # (Verhoeff passes one in ten): reported with their share, not flagged.
    assert "v1" not in columns
    assert (columns["v2"]["flagged"], columns["v2"]["tables"]["reference"]["detector_shares"]) == (
        False,
        {"in_aadhaar": 9 / 89},
    )
