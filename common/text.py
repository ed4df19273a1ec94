"""Characters that make text lie: controls and Unicode's bidirectional formatting characters.

Names, versions, labels and paths the registry shows (in the admin, the cards, CSV and PDF exports, a
terminal) must read as what they are. C0 and C1 control characters (ANSI escape sequences start with ESC;
CR and LF forge log lines and CSV rows) and the bidirectional controls (U+202E shows ``gnp.exe`` as
``exe.png``; U+2066..U+2069 isolates; U+200E/U+200F marks; U+061C) are refused in them. Free text (a
description) may hold line breaks and tabs, nothing else of the kind. Standard library only.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_FREE_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` is refused (the first control or bidirectional character, named), or None."""
    found = (_FREE_TEXT if multiline else _LINE).search(text)
    if found is None:
        return None
    return (
        f"must not contain control or bidirectional formatting characters (U+{ord(found.group()):04X} at "
        f"position {found.start() + 1})"
    )
