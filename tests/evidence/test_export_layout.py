"""The pieces of an export the offline verifier reads: leaf index ranges and the two event files."""

from __future__ import annotations

import io
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.evidence.errors import Reason, VerificationError
from common.evidence.export_events import csv_events, json_events
from common.evidence.export_layout import expand_ranges, index_ranges

HEADER = (
    "sequence,occurred_at,actor_user_id,actor_username,actor_via,action,object_type,object_id,object_repr,"
    "project_id,project_slug,before_json,after_json,request_id,client_ip,prev_hash,hash\n"
)


@given(st.sets(st.integers(0, 200)))
def test_ranges_hold_exactly_the_indexes(indexes):
    ordered = sorted(indexes)
    ranges = index_ranges(ordered)
    assert expand_ranges(ranges, 201) == ordered
    assert all(a < b for a, b in ranges) and all(b < c for (_, b), (c, _) in pairwise(ranges))


@pytest.mark.parametrize(
    "ranges",
    [[[3, 2]], [[0, 5], [4, 6]], [[0, 11]], [[-1, 2]], [[0, 1, 2]], [[0, True]], [[0.0, 1]], "0-1", [(0, 1)]],
)
def test_ranges_that_are_not_increasing_disjoint_runs_are_refused(ranges):
    with pytest.raises(ValueError):
        expand_ranges(ranges, 10)


def _csv(line: str) -> list:
    return list(csv_events(io.BytesIO((HEADER + line).encode()), "audit_events.csv"))


def test_a_csv_event_reads_back_nulls_numbers_and_guarded_text():
    [(event, stored)] = _csv('4,"t",,"\'=x","v","a","o","1","\'\'q",9,"p","{}","null","","","00","ff"\n')
    assert stored == "ff"
    assert event == {
        "sequence": 4,
        "occurred_at": "t",
        "actor_user_id": None,
        "actor_username": "=x",
        "actor_via": "v",
        "action": "a",
        "object_type": "o",
        "object_id": "1",
        "object_repr": "'q",
        "project_id": 9,
        "project_slug": "p",
        "before": "{}",
        "after": "null",
        "request_id": "",
        "client_ip": "",
        "prev_hash": "00",
    }


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda: list(csv_events(io.BytesIO(b"sequence,hash\n1,2\n"), "e.csv")), "the header"),
        (lambda: _csv('x,"t",,"","","","","","",,"","","","","","",""\n'), "sequence is not an integer"),
        (lambda: _csv('--1,"t",,"","","","","","",,"","","","","","",""\n'), "sequence is not an integer"),
        (lambda: _csv("1,2\n"), "2 cells, not 17"),
        (lambda: list(json_events(io.BytesIO(b'{"export": 1}\n'), "export.json")), "no audit_events list"),
        (lambda: list(json_events(io.BytesIO(b'"audit_events": [\n'), "export.json")), "no complete"),
        (lambda: list(json_events(io.BytesIO(b'"audit_events": [\n{"a": 1}\n]'), "export.json")), "exactly"),
        (lambda: list(json_events(io.BytesIO(b'"audit_events": [\n{"a": \n]'), "export.json")), "not a JSON"),
    ],
)
def test_unreadable_events_are_malformed(read, message):
    with pytest.raises(VerificationError, match=message) as raised:
        read()
    assert raised.value.reason == Reason.MALFORMED
