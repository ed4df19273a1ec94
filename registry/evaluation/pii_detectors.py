"""Value detectors for direct identifiers, with checksums where the format defines one.

Each detector takes a stripped string and says whether it is a well-formed value of its kind, whatever
the column is called: e-mail address (also ``mailto:`` and ``Name <address>``); phone number (parsed by
``phonenumbers``, see below); US SSN (SSA rules: no area 000/666/9xx, group 00 or serial 0000); UK
National Insurance number (HMRC prefix rules); Spanish DNI/NIE (mod-23 check letter); French NIR (social
security number: sex, month, 97 - mod-97 key); Indian Aadhaar (12 digits, Verhoeff check digit); payment
card (known network prefix and length, Luhn); IBAN (country length and ISO 7064 mod-97 = 1); IPv4/IPv6
address, optionally with a prefix length (``ipaddress``). Digits-only detectors also run on integer
columns (an SSN or card number stored as a number), see ``NUMERIC_DETECTORS``.

Phone numbers are read by ``phonenumbers`` (Google's libphonenumber metadata), which knows the formats
people write: extensions (``x141``, ``ext. 12``), international prefixes (``+44``, ``001-``, ``0044``, ``+44
(0)``), national formats with parentheses, dots, dashes, slashes or spaces. A value without a country code
is read in ``PHONE_REGIONS``: a national number starting with the trunk prefix 0 as GB, DE, FR or IN, any
other as a North American (NANP: US, Canada) or Indian number. A value is a phone when

- it holds only phone characters (digits, ``+``, spaces, ``( ) . - /``) and an optional extension;
- it is not a date, a decimal or thousands-grouped number, a US ZIP+4, a dashed SSN or an IP address;
- written with a "+" or an international prefix (00, 011): 8 to 15 digits after the prefix, and a
  *possible* number (right length) for its country code;
- written with separators in a national format: a *possible* number of one of the regions (a NANP number
  also needs an area code starting with 2-9, so "(555) 123-4567" is one; an Indian number written
  without the trunk 0 must be *valid*);
- written as bare digits: 10 digits (11 with a leading 1) that are a *valid* North American number or
  Indian mobile number, or the trunk 0 and 10-13 digits making a *possible* number of the other regions.
  Integers stored as numbers never start with 0, so ages, counts, years, zip codes, prices or Adult's
  ``fnlwgt`` (at most 7 digits) are never phones; timestamps in seconds (starting with 1 until 2033) a few
  in a thousand.
  About 6 uniformly random 10-digit integers in 10 are valid NANP or Indian mobile numbers: such a column
  (a random 10-digit key) is flagged as phone, as it was by the old North American pattern (64%).

``is_phone_international_digits`` (digits only, a country code without the "+", as MSISDNs are stored) and
``digits_as_ssn_zeros_lost`` (an SSN stored as a 7- or 8-digit number) are too loose to decide alone: the
PII kind uses them only when the column name already says "phone" or "ssn".

``find_embedded`` looks for identifiers inside free text (a note, a comment, an address line): the kinds
whose form is distinctive enough to search for without a column to say what it holds, each candidate
checked as a whole value by its detector: e-mail; dashed US SSN; payment card with Luhn, compact or in the
groups printed on cards; IBAN with mod-97; phone numbers, found by ``phonenumbers.PhoneNumberMatcher`` in
any written format once the other identifiers found are blanked out, each checked by ``is_phone``. In
running text a bare run of digits is as often an order or ticket number as a phone: it counts only next
to a word that says phone (call, phone, tel, mobile, cell, fax, voicemail, whatsapp, sms, dial, reach).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import phonenumbers
from phonenumbers import Leniency, NumberParseException, PhoneNumberMatcher, ValidationResult

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_EMAIL_DISPLAY = re.compile(r"(?:mailto:|[^<>@]*<)(?P<address>[^<>\s]+@[^<>\s]+?)>?", re.IGNORECASE)
_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}([\- ]?)(?!00)\d{2}\1(?!0000)\d{4}")
_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")
_DNI = re.compile(r"([XYZ]\d{7}|\d{8})-?([A-Z])")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# Sex (1, 2; 3, 4, 7, 8 for temporary numbers), year, month (01-12, 20-42 or 50-99 when unknown),
# department (2A/2B: Corsica), commune, order number, key.
_NIR = re.compile(r"[1-478]\d{2}(?:0[1-9]|1[0-2]|[2-4]\d|[5-9]\d)(?:\d{2}|2[AB])\d{6}\d{2}")
_AADHAAR = re.compile(r"[2-9]\d{11}")
_CARD_SEPARATORS = re.compile(r"[\s\-]")
_CARD_PREFIX = re.compile(
    r"4\d{12}(?:\d{3}){0,2}"  # Visa: 13, 16 or 19 digits
    r"|(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # American Express
    r"|(?:6011|65\d{2}|64[4-9]\d)\d{12,15}"  # Discover
    r"|35\d{14,17}"  # JCB (3528-3589; Faker and test ranges use all of 35xx)
    r"|(?:2131|1800)\d{11}"  # JCB, 15 digits
    r"|3(?:0[0-5]|[689]\d)\d{11,16}"  # Diners Club
    r"|62\d{14,17}"  # UnionPay
    r"|220[0-4]\d{12,15}"  # Mir
    r"|(?:60|8[12])\d{14}|508\d{13}"  # RuPay
    r"|(?:50|5[6-9]|6\d)\d{10,17}|0604\d{8,15}"  # Maestro: 12 to 19 digits
)
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
# Lengths of the most common IBAN countries; others must still pass the mod-97 check.
_IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22,
    "GR": 27, "HU": 28, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
    "SE": 24, "SK": 24,
}  # fmt: skip

# Phones. Regions tried for numbers written without a country code: NANP first for numbers without the
# trunk prefix (India's mobiles are written without it too), the others for national numbers "0...".
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN")
_TRUNK_REGIONS = ("GB", "DE", "FR", "IN")
_EXTENSION = re.compile(r"(?P<main>.*?)(?:\s*[,;]?\s*(?:x|ext\.?|extn\.?|extension|#)\s*(?P<ext>\d{1,7}))?", re.I)
_PHONE_CHARS = re.compile(r"\(?\+?\(?\d[\d\s().\-/]*\d")
_NOT_PHONE = re.compile(
    r"(?:1[89]|20)\d\d[\-./](?:0?[1-9]|1[0-2])[\-./](?:0?[1-9]|[12]\d|3[01])"  # ISO date
    r"|(?:0?[1-9]|[12]\d|3[01])[\-./](?:0?[1-9]|[12]\d|3[01])[\-./](?:1[89]|20)\d\d"  # d/m/y or m/d/y
    r"|[+\-]?\d+[.,]\d+"  # a decimal number
    r"|[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*"  # thousands grouped with dots or commas
    r"|\d{5}-\d{4}"  # US ZIP+4
    r"|\d{3}-\d{2}-\d{4}"  # dashed US SSN
)
_NON_DIGITS = re.compile(r"\D")
# Free text: at least this many digits before the phone matcher is run at all; a bare run of digits
# needs one of these words within _CUE_WINDOW characters.
_MIN_PHONE_DIGITS = 8
_BARE_DIGITS = re.compile(r"\d+")
_PHONE_CUE = re.compile(r"phone|\btel\b|call|mobile|\bcell|\bfax|voicemail|whats\s?app|\bsms\b|\bdial|reach", re.I)
_CUE_WINDOW = 30


def is_email(value: str) -> bool:
    """An e-mail address (local@domain.tld), bare or as ``mailto:`` / ``Name <address>``."""
    if _EMAIL.fullmatch(value) is not None:
        return True
    display = _EMAIL_DISPLAY.fullmatch(value)
    return display is not None and _EMAIL.fullmatch(display.group("address")) is not None


def _nanp_shaped(number: phonenumbers.PhoneNumber) -> bool:
    """Ten digits and an area code starting with 2-9 (exchanges like 123 are left to validity)."""
    national = str(number.national_number)
    return len(national) == 10 and national[0] not in "01"


_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _accepts(number: phonenumbers.PhoneNumber, rule: str) -> bool:
    """ "possible": right length for the country; "valid": in an assigned range; "mobile": a valid mobile."""
    if rule == "possible":
        ok = phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE
    elif rule == "mobile":
        ok = phonenumbers.number_type(number) in _MOBILE_TYPES
    else:
        ok = phonenumbers.is_valid_number(number)
    return ok and (number.country_code != 1 or _nanp_shaped(number))


def parse_phone(value: str) -> phonenumbers.PhoneNumber | None:
    """The phone number a value is written as (see the module docstring for the rules), or None."""
    parts = _EXTENSION.fullmatch(value.strip())
    main = parts.group("main") if parts else ""
    if not main or _PHONE_CHARS.fullmatch(main) is None or "+" in main.lstrip("(+"):
        return None
    digits = _NON_DIGITS.sub("", main)
    if len(digits) < 8 or len(digits) > 18 or _NOT_PHONE.fullmatch(main) or is_ip_address(main):
        return None
    bare = digits == main
    loose = "valid" if bare else "possible"
    # (region, rule, fewest digits, most digits): the ways this value may be written.
    attempts: list[tuple[str | None, str, int, int]]
    if main.lstrip("(").startswith("+"):
        attempts = [(None, loose, 8, 15)]
    elif digits.startswith("00"):
        attempts = [("GB", loose, 10, 17)]  # international prefix 00 (Europe, India): "001-", "0044 "
    elif digits.startswith("0"):
        # Trunk prefix 0 then the national number; "011" is also the prefix North America dials abroad.
        attempts = [(region, "possible", 10 if bare else 9, 13) for region in _TRUNK_REGIONS]
        attempts += [("US", loose, 11, 18)] if digits.startswith("011") else []
    else:
        # No prefix: a North American number, or an Indian one (written without the trunk 0 as often as
        # with it). Bare digits, where integers live, must be a valid NANP number or Indian mobile.
        attempts = [("US", loose, 10, 11), ("IN", "mobile" if bare else "valid", 10, 10)]
        if len(digits) == 11 and not digits.startswith("1"):
            return None
    accepted = []
    for region, rule, fewest, most in attempts:
        if not fewest <= len(digits) <= most:
            continue
        try:
            number = phonenumbers.parse(main, region)
        except NumberParseException:
            continue
        if _accepts(number, rule):
            if parts and parts.group("ext"):
                number.extension = parts.group("ext")
            if rule != "possible" or phonenumbers.is_valid_number(number):
                return number
            accepted.append(number)
    # Possible in several regions ("01 23 45 67 89"): the first where it is also valid was returned above.
    return accepted[0] if accepted else None


def is_phone(value: str) -> bool:
    """A phone number in any format people write (see the module docstring), checked by ``phonenumbers``."""
    return parse_phone(value) is not None


def is_phone_international_digits(value: str) -> bool:
    """Digits only, starting with a country code (no "+"): a valid number of that country. Weak alone."""
    if not value.isdigit() or not 11 <= len(value) <= 15 or value.startswith("0"):
        return False
    try:
        number = phonenumbers.parse("+" + value, None)
    except NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and (number.country_code != 1 or _nanp_shaped(number))


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


def is_fr_nir(value: str) -> bool:
    """A French NIR (numéro de sécurité sociale, 15 characters, spaces allowed) with its mod-97 key."""
    compact = value.replace(" ", "").upper()
    if _NIR.fullmatch(compact) is None:
        return False
    body = compact[:5] + compact[5:7].replace("2A", "19").replace("2B", "18") + compact[7:13]
    return 97 - int(body) % 97 == int(compact[13:])


_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]  # fmt: skip
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]  # fmt: skip


def verhoeff_valid(digits: str) -> bool:
    """The Verhoeff check (dihedral group D5) used by Aadhaar numbers."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(char)]]
    return check == 0


def is_in_aadhaar(value: str) -> bool:
    """An Indian Aadhaar number: 12 digits (spaces or dashes allowed), first 2-9, Verhoeff check digit."""
    compact = _CARD_SEPARATORS.sub("", value)
    return _AADHAAR.fullmatch(compact) is not None and verhoeff_valid(compact)


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
    """An IPv4 (dotted quad) or IPv6 address, optionally with a prefix length (``10.1.2.3/24``)."""
    if "." not in value and ":" not in value:
        return False
    address = value.strip("[]").split("%")[0]
    try:
        if "/" in address:
            ipaddress.ip_interface(address)
        else:
            ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def digits_as_ssn(value: str) -> bool:
    """An integer read as an SSN: 9 digits (areas 100-899, nine SSNs in ten).

    An SSN stored as a number loses its leading zeros, but every 7- or 8-digit integer would then pass
    (areas 001-099 are all valid): revenues, counts and Adult's ``fnlwgt`` above a million are not SSNs.
    A column of SSNs stored as numbers still has about 89% 9-digit values, above the share threshold.
    """
    return len(value) == 9 and is_us_ssn(value)


def digits_as_ssn_zeros_lost(value: str) -> bool:
    """An integer read as an SSN whose leading zeros were lost (7-9 digits): credible only by its name."""
    return 7 <= len(value) <= 9 and is_us_ssn(value.zfill(9))


def digits_as_phone(value: str) -> bool:
    """An integer read as a phone number: a valid North American (10 digits, or 11 with a 1) or Indian mobile."""
    return len(value) in (10, 11) and is_phone(value)


def digits_as_card(value: str) -> bool:
    """An integer read as a payment card number."""
    return 13 <= len(value) <= 19 and is_payment_card(value)


def digits_as_nir(value: str) -> bool:
    """An integer read as a French NIR (its first digit, the sex, is never 0)."""
    return len(value) == 15 and is_fr_nir(value)


def digits_as_aadhaar(value: str) -> bool:
    """An integer read as an Aadhaar number."""
    return len(value) == 12 and is_in_aadhaar(value)


# Order matters only for ties: the kinds with a checksum or a strict structure come before phone.
DETECTORS: dict[str, Callable[[str], bool]] = {
    "email": is_email,
    "us_ssn": is_us_ssn,
    "uk_nino": is_uk_nino,
    "es_dni": is_es_dni,
    "fr_nir": is_fr_nir,
    "in_aadhaar": is_in_aadhaar,
    "payment_card": is_payment_card,
    "iban": iban_valid,
    "ip_address": is_ip_address,
    "phone": is_phone,
}
NUMERIC_DETECTORS: dict[str, Callable[[str], bool]] = {
    "us_ssn": digits_as_ssn,
    "fr_nir": digits_as_nir,
    "in_aadhaar": digits_as_aadhaar,
    "payment_card": digits_as_card,
    "phone": digits_as_phone,
}

_EMBEDDED_PATTERNS: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    "email": (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"), is_email),
    "us_ssn": (re.compile(r"(?<![\d\-])\d{3}-\d{2}-\d{4}(?![\d\-])"), is_us_ssn),
    # Compact, or grouped as printed on cards: 4-4-4-4(-1..3), 4-6-5 (Amex), 4-6-4 (Diners).
    "payment_card": (
        re.compile(
            r"(?<![\d\-])(?:\d{13,19}"
            r"|\d{4}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"
            r"|\d{4}([ \-])\d{6}\2\d{4,5})(?![\d\-])"
        ),
        is_payment_card,
    ),
    "iban": (re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])"), iban_valid),
}


def find_phones(text: str) -> list[str]:
    """Phone numbers written in running text, as written (``PhoneNumberMatcher``, then ``is_phone``)."""
    if sum(char.isdigit() for char in text) < _MIN_PHONE_DIGITS:
        return []
    found: dict[int, str] = {}
    # The matcher's region only decides how numbers without a country code are read; "DE" accepts every
    # length our regions use, and each candidate is then judged by is_phone against all PHONE_REGIONS.
    for match in PhoneNumberMatcher(text, "DE", leniency=Leniency.POSSIBLE):
        raw = match.raw_string
        if _BARE_DIGITS.fullmatch(raw):
            window = text[max(0, match.start - _CUE_WINDOW) : match.end + _CUE_WINDOW]
            if _PHONE_CUE.search(window) is None:
                continue
        if is_phone(raw):
            found.setdefault(match.start, raw)
    return [found[start] for start in sorted(found)]


def find_embedded(value: str) -> dict[str, list[str]]:
    """The identifiers found inside a text, by kind (only kinds with at least one valid match)."""
    found: dict[str, list[str]] = {}
    blanked = list(value)
    for kind, (pattern, valid) in _EMBEDDED_PATTERNS.items():
        hits = [match for match in pattern.finditer(value) if valid(match.group(0))]
        if hits:
            found[kind] = [match.group(0) for match in hits]
            for match in hits:
                blanked[match.start() : match.end()] = " " * (match.end() - match.start())
    phones = find_phones("".join(blanked))
    if phones:
        found["phone"] = phones
    return {kind: found[kind] for kind in ("email", "phone", "us_ssn", "payment_card", "iban") if kind in found}
