"""Table formats: what a file's name claims, what its bytes really are, and the separator of delimited text.

No Django and no pandas here: the registration service, the API, lineage and the benchmarks all classify
files through these functions, so a file means the same thing everywhere.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

FORMATS = ("csv", "csv.gz", "parquet")
_SNIFF_BYTES = 64 * 1024


class TableError(ValueError):
    """A file that cannot be read as a table; the message says why, for the person who sent it."""


def format_from_name(name: str) -> str | None:
    """The format a file name claims: .csv/.tsv, .csv.gz/.tsv.gz/.gz, .parquet/.pq; None when it claims none.

    Tab- and comma-separated text are one format ("csv"); read_table finds the separator in the header.
    """
    lower = name.lower()
    if lower.endswith((".csv.gz", ".tsv.gz", ".gz")):
        return "csv.gz"
    if lower.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    return None


def _looks_like_text(sample: bytes) -> bool:
    if not sample.strip():
        return False
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(sample) - 4:
            return False
    return True


def sniff_format(path: Path | str) -> str:
    """Detect the real format of a file from its bytes; raise TableError for anything else."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        if not head:
            raise TableError("the file is empty")
        if head[:4] == b"PAR1":
            handle.seek(-4, io.SEEK_END)
            if handle.read(4) != b"PAR1":
                raise TableError("the file starts like Parquet but is truncated (no PAR1 footer)")
            return "parquet"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as gz:
                inner = gz.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error) as exc:
            raise TableError(f"the file is not valid gzip: {exc}") from exc
        if not _looks_like_text(inner):
            raise TableError("the gzip file does not contain CSV text")
        return "csv.gz"
    if _looks_like_text(head):
        return "csv"
    raise TableError("unsupported file type: expected CSV, gzip-compressed CSV or Parquet")


def check_declared_format(actual: str, declared: str | None) -> None:
    """Refuse a file whose name or declared format lies about its content."""
    if declared is not None and declared != actual:
        raise TableError(f"the content is {actual} but the file is declared as {declared}")


def delimiter(path: Path | str, fmt: str) -> str:
    """The separator of a delimited text file, from its header line: a tab (TSV) or a comma (CSV).

    Read from the bytes, not the name: an upload is staged under a name of its own, and a stored
    object is named after its format, so a .tsv file keeps no trace of its suffix once received.
    """
    opener = gzip.open if fmt == "csv.gz" else open
    try:
        with opener(path, "rb") as handle:
            header = handle.readline(_SNIFF_BYTES)  # bounded: at most 64 KiB inflated
    except (OSError, EOFError, zlib.error) as exc:
        raise TableError(f"the file is not valid gzip: {exc}") from exc
    outside_quotes = b"".join(header.split(b'"')[::2])
    return "\t" if outside_quotes.count(b"\t") > outside_quotes.count(b",") else ","
