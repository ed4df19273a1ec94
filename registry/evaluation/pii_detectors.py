"""Value detectors for direct identifiers, with checksums where the format defines one.

Each detector takes a stripped string and says whether it is a well-formed value of its kind:
e-mail address; phone number (E.164 with "+", North American, UK and French national formats); US SSN
(SSA rules: no area 000/666/9xx, group 00 or serial 0000); UK National Insurance number (HMRC prefix
rules); Spanish DNI/NIE (mod-23 check letter); payment card (known network prefix, 13-19 digits, Luhn);
IBAN (country length and ISO 7064 mod-97 = 1); IPv4/IPv6 (``ipaddress``). Digits-only detectors also run
on integer columns (an SSN or card number stored as a number), see ``NUMERIC_DETECTORS``.

``EMBEDDED_FINDERS`` look for identifiers inside free text (a note, a comment, an address line): only the
kinds whose form is distinctive enough to search for without a column to say what it holds, each candidate
checked as a whole value by its detector (e-mail; phone in E.164 with "+"; dashed US SSN; payment card
with Luhn; IBAN with mod-97).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_E164 = re.compile(r"\+[1-9]\d{7,14}")
_NANP = re.compile(r"(?:\+?1[\s.\-]?)?(?:\([2-9]\d{2}\)|[2-9]\d{2})[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}")
_UK_PHONE = re.compile(r"(?:\+44\s?|0)(?:\d{4}\s?\d{6}|\d{3}\s?\d{3}\s?\d{4}|\d{2}\s?\d{4}\s?\d{4})")
_FR_PHONE = re.compile(r"(?:\+33\s?|0)[1-9](?:[\s.\-]?\d{2}){4}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}([\- ]?)(?!00)\d{2}\1(?!0000)\d{4}")
_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")
_DNI = re.compile(r"([XYZ]\d{7}|\d{8})-?([A-Z])")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_CARD_SEPARATORS = re.compile(r"[\s\-]")
_CARD_PREFIX = re.compile(
    r"4\d{12}(?:\d{3}){0,2}"  # Visa: 13, 16 or 19 digits
    r"|(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # American Express
    r"|(?:6011|65\d{2}|64[4-9]\d)\d{12,15}"  # Discover
    r"|35(?:2[89]|[3-8]\d)\d{12,15}"  # JCB
    r"|3(?:0[0-5]|[689]\d)\d{11,16}"  # Diners Club
    r"|62\d{14,17}"  # UnionPay
)
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
# Lengths of the most common IBAN countries; others must still pass the mod-97 check.
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
    "GR": 27, "HU": 28, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
    "SE": 24, "SK": 24,
}  # fmt: skip


def is_email(value: str) -> bool:
    """An e-mail address (local@domain.tld)."""
    return _EMAIL.fullmatch(value) is not None


def is_phone(value: str) -> bool:
    """A phone number: E.164 ("+" and 8-15 digits) or a North American, UK or French national number."""
    if _E164.fullmatch(_PHONE_SEPARATORS.sub("", value)) and value.lstrip().startswith("+"):
        return True
    return any(pattern.fullmatch(value) for pattern in (_NANP, _UK_PHONE, _FR_PHONE))


def is_us_ssn(value: str) -> bool:
    """A US Social Security number with valid area, group and serial (dashes optional, consistent)."""
    return _SSN.fullmatch(value) is not None


def is_uk_nino(value: str) -> bool:
    """A UK National Insurance number (two prefix letters, six digits, suffix A-D)."""
    return _NINO.fullmatch(value.replace(" ", "").upper()) is not None


def is_es_dni(value: str) -> bool:
    """A Spanish DNI (8 digits) or NIE (X/Y/Z + 7 digits) whose check letter is right."""
    match = _DNI.fullmatch(value.replace(" ", "").upper())
    if match is None:
        return False
    digits = match.group(1)
    number = int(str("XYZ".index(digits[0])) + digits[1:]) if digits[0] in "XYZ" else int(digits)
    return _DNI_LETTERS[number % 23] == match.group(2)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod-10) check used by payment card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_payment_card(value: str) -> bool:
    """A payment card number: a known network prefix and length, and a valid Luhn check digit."""
    digits = _CARD_SEPARATORS.sub("", value)
    return _CARD_PREFIX.fullmatch(digits) is not None and luhn_valid(digits)


def iban_valid(value: str) -> bool:
    """An IBAN: format, the country's length where known, and the mod-97 check (remainder 1)."""
    compact = value.replace(" ", "").upper()
    if _IBAN.fullmatch(compact) is None:
        return False
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def is_ip_address(value: str) -> bool:
    """An IPv4 (dotted quad) or IPv6 address."""
    if "." not in value and ":" not in value:
        return False
    try:
        ipaddress.ip_address(value.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def digits_as_ssn(value: str) -> bool:
    """An integer column's value read as an SSN: leading zeros are lost when stored as a number."""
    return 7 <= len(value) <= 9 and is_us_ssn(value.zfill(9))


def digits_as_phone(value: str) -> bool:
    """An integer read as a North American number (10 digits, or 11 with the leading 1)."""
    return len(value) in (10, 11) and _NANP.fullmatch(value) is not None


def digits_as_card(value: str) -> bool:
    """An integer read as a payment card number."""
    return 13 <= len(value) <= 19 and is_payment_card(value)


DETECTORS: dict[str, Callable[[str], bool]] = {
    "email": is_email,
    "phone": is_phone,
    "us_ssn": is_us_ssn,
    "uk_nino": is_uk_nino,
    "es_dni": is_es_dni,
    "payment_card": is_payment_card,
    "iban": iban_valid,
    "ip_address": is_ip_address,
}
NUMERIC_DETECTORS: dict[str, Callable[[str], bool]] = {
    "us_ssn": digits_as_ssn,
    "phone": digits_as_phone,
    "payment_card": digits_as_card,
}

_EMBEDDED_PATTERNS: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    "email": (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"), is_email),
    "phone": (re.compile(r"(?<![\w+])\+[1-9](?:[\s.\-]?\d){7,14}(?!\d)"), is_phone),
    "us_ssn": (re.compile(r"(?<![\d\-])\d{3}-\d{2}-\d{4}(?![\d\-])"), is_us_ssn),
    "payment_card": (re.compile(r"(?<![\d\-])\d(?:[\s\-]?\d){12,18}(?![\d\-])"), is_payment_card),
    "iban": (re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])"), iban_valid),
}


def find_embedded(value: str) -> dict[str, list[str]]:
    """The identifiers found inside a text, by kind (only kinds with at least one valid match)."""
    found: dict[str, list[str]] = {}
    for kind, (pattern, valid) in _EMBEDDED_PATTERNS.items():
        hits = [match.group(0) for match in pattern.finditer(value) if valid(match.group(0))]
        if hits:
            found[kind] = hits
    return found
