"""in-toto Statement v1 and the one JSON serialisation every signed payload uses.

A statement says "these files, identified by their SHA-256, have this predicate"; wrapped in a DSSE
envelope it is what in-toto and sigstore tooling already verify, so an auditor needs none of our code.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _check_plain_json(value: Any, path: str) -> None:
    # json.dumps would quietly turn {1: ...} into {"1": ...} (two keys could then collide) and write
    # NaN as a bare token no JSON parser accepts; a signed payload must mean exactly one thing.
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} has no JSON form")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be text, not {type(key).__name__}")
            _check_plain_json(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_plain_json(item, f"{path}[{index}]")
        return
    raise TypeError(f"{path}: {type(value).__name__} is not plain JSON data")


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no spaces: the same data always gives the same bytes.

    Refuses NaN and infinities, non-text keys and anything but dict/list/str/int/float/bool/None. This is
    deterministic for our payloads but not RFC 8785 (JCS): floats are written as Python's shortest repr
    and keys sorted by code point, so never re-canonicalise a payload to check it — verify the signed bytes.
    """
    _check_plain_json(obj, "$")
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: valid in a Python str, not in UTF-8
        raise ValueError(f"text that is not valid Unicode cannot be signed ({exc})") from exc


def statement(subjects: Iterable[tuple[str, str]], predicate_type: str, predicate: Mapping[str, Any]) -> dict:
    """An in-toto Statement v1 about ``subjects`` (name, lowercase hex SHA-256), in subject order.

    Raises ``ValueError`` for an empty subject list, an empty name, a digest that is not 64 lowercase hex
    digits, or an empty predicate type: a statement about nothing, or about an unnamed file, proves nothing.
    """
    subject_list = []
    for name, sha256 in subjects:
        if not isinstance(name, str) or not name:
            raise ValueError("every subject needs a non-empty name")
        if not isinstance(sha256, str) or not _SHA256_HEX.fullmatch(sha256):
            raise ValueError(f"subject {name!r}: the SHA-256 must be 64 lowercase hex digits")
        subject_list.append({"name": name, "digest": {"sha256": sha256}})
    if not subject_list:
        raise ValueError("a statement needs at least one subject")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise ValueError("the predicate type must be a non-empty URI")
    if not isinstance(predicate, Mapping):
        raise TypeError("the predicate must be a JSON object")
    _check_plain_json(predicate, "predicate")
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject_list,
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
