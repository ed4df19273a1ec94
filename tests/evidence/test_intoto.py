"""in-toto statements and the canonical JSON of every signed payload."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from common.evidence.intoto import PAYLOAD_TYPE, STATEMENT_TYPE, canonical_json, statement

DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_statement_is_in_toto_v1():
    result = statement(
        [("adult.csv", DIGEST), ("adult.parquet", "0" * 64)],
        "https://example.org/synthetic-dataset-release/v1",
        {"seed": 7},
    )
    assert result == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "adult.csv", "digest": {"sha256": DIGEST}},
            {"name": "adult.parquet", "digest": {"sha256": "0" * 64}},
        ],
        "predicateType": "https://example.org/synthetic-dataset-release/v1",
        "predicate": {"seed": 7},
    }
    assert (STATEMENT_TYPE, PAYLOAD_TYPE) == ("https://in-toto.io/Statement/v1", "application/vnd.in-toto+json")


def test_statement_refuses_what_would_prove_nothing():
    bad_digest = "^subject 'a': the SHA-256 must be 64 lowercase hex digits$"
    cases = [
        (([], "p", {}), ValueError, "^a statement needs at least one subject$"),
        (([("", DIGEST)], "p", {}), ValueError, "^every subject needs a non-empty name$"),
        (([("a", DIGEST[:-1])], "p", {}), ValueError, bad_digest),
        # Upper-case hex is the same digest, but two spellings of one statement would sign differently.
        (([("a", DIGEST.upper())], "p", {}), ValueError, bad_digest),
        (([("a", DIGEST)], "", {}), ValueError, "^the predicate type must be a non-empty URI$"),
        (([("a", DIGEST)], "p", [1]), TypeError, "^the predicate must be a JSON object$"),
        (
            ([("a", DIGEST)], "p", {"at": dt.date(2026, 1, 1)}),
            TypeError,
            r"^predicate\.at: date is not plain JSON data$",
        ),
    ]
    for arguments, error, message in cases:
        with pytest.raises(error, match=message):
            statement(*arguments)


def test_canonical_json_is_sorted_compact_utf8():
    value = {"b": 1, "a": [1.5, "\u00e9\u4e2d", None, True, {"z": 0, "y": -2}], "\u00e9": ""}
    assert canonical_json(value) == '{"a":[1.5,"\u00e9\u4e2d",null,true,{"y":-2,"z":0}],"b":1,"\u00e9":""}'.encode()
    assert canonical_json(value) == b'{"a":[1.5,"\xc3\xa9\xe4\xb8\xad",null,true,{"y":-2,"z":0}],"b":1,"\xc3\xa9":""}'
    assert json.loads(canonical_json(value)) == value
    assert canonical_json((1, 2)) == b"[1,2]"


def test_canonical_json_refuses_what_has_no_single_json_form():
    cases = [
        (float("nan"), ValueError, r"^\$: nan has no JSON form$"),
        ({"x": [float("inf")]}, ValueError, r"^\$\.x\[0\]: inf has no JSON form$"),
        ({1: "a", "1": "b"}, TypeError, r"^\$: object keys must be text, not int$"),
        ({"when": dt.datetime(2026, 1, 1)}, TypeError, r"^\$\.when: datetime is not plain JSON data$"),
        ({"s": {1, 2}}, TypeError, r"^\$\.s: set is not plain JSON data$"),
        ("\ud800", ValueError, "^text that is not valid Unicode cannot be signed"),
    ]
    for value, error, message in cases:
        with pytest.raises(error, match=message):
            canonical_json(value)
