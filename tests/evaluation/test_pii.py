"""PII detectors (with their checksums), the column scan and the replay count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.evaluation.pii import mask, name_hint
from registry.evaluation.pii_detectors import (
    NUMERIC_DETECTORS,
    find_embedded,
    iban_valid,
    is_email,
    is_es_dni,
    is_ip_address,
    is_payment_card,
    is_phone,
    is_uk_nino,
    is_us_ssn,
    luhn_valid,
)


@pytest.mark.parametrize(
    ("detector", "positives", "negatives"),
    [
        (
            is_email,
            ["jane.doe@example.com", "a+b@mail.co.uk"],
            ["jane.doe@", "example.com", "a@b", "x y@z.com"],
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
            ],
            ["12345", "555-2671", "+1", "2023-01-15", "1234567890123456789"],
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
            is_payment_card,
            ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"],
            ["4111 1111 1111 1112", "1234567812345670", "0000000000000000", "41111111111"],
        ),
        (
            iban_valid,
            ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606"],
            ["GB82 WEST 1234 5698 7654 33", "DE8937040044053201300", "XX00", "DE00370400440532013000"],
        ),
        (
            is_ip_address,
            ["192.168.1.20", "8.8.8.8", "2001:db8::1", "::1"],
            ["256.1.1.1", "1.2.3", "abc", "12:34"],
        ),
    ],
)
def test_detectors_accept_valid_and_reject_invalid_values(detector, positives, negatives):
    assert all(detector(value) for value in positives), [v for v in positives if not detector(v)]
    assert not any(detector(value) for value in negatives), [v for v in negatives if detector(v)]


def test_luhn_and_numeric_detectors():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    # An SSN stored as a number loses its leading zero; a card number stored as int64 keeps its digits.
    assert NUMERIC_DETECTORS["us_ssn"]("78051120")
    assert not NUMERIC_DETECTORS["us_ssn"]("123456")
    assert NUMERIC_DETECTORS["payment_card"]("4111111111111111")
    assert NUMERIC_DETECTORS["phone"]("4155552671") and not NUMERIC_DETECTORS["phone"]("1234567890")


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
