"""Reading tabular files: format detection from the bytes themselves, fingerprints, and loading.

No Django here: the registration service, the evaluation tasks and the benchmarks all read tables
through these functions, so a file means the same thing everywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = ("csv", "csv.gz", "parquet")
_SNIFF_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


class TableError(ValueError):
    """A file that cannot be read as a table; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class ContentDigest:
    """SHA-256 and size of a file's bytes."""

    sha256: str
    byte_count: int


def sha256_file(path: Path | str) -> ContentDigest:
    """Fingerprint a file by streaming it: memory stays flat whatever the size."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return ContentDigest(sha256=digest.hexdigest(), byte_count=size)


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
    with opener(path, "rb") as handle:
        header = handle.readline(_SNIFF_BYTES)
    outside_quotes = b"".join(header.split(b'"')[::2])
    return "\t" if outside_quotes.count(b"\t") > outside_quotes.count(b",") else ","


def read_table(path: Path | str, fmt: str) -> pd.DataFrame:
    """Load a CSV, gzip CSV or Parquet file into a DataFrame; raise TableError with the reason."""
    if fmt not in FORMATS:
        raise TableError(f"unsupported format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        else:
            # pyarrow's reader is multi-threaded: several times faster than the C engine on big files.
            frame = pd.read_csv(
                path,
                engine="pyarrow",
                sep=delimiter(path, fmt),
                compression="gzip" if fmt == "csv.gz" else None,
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        # pyarrow's ArrowInvalid (corrupt or inconsistent input) is a ValueError.
        raise TableError(f"cannot parse the file as {fmt}: {exc}") from exc
    if frame.shape[1] == 0:
        raise TableError("the table has no columns")
    if frame.shape[0] == 0:
        raise TableError("the table has a header but no data rows")
    duplicates = frame.columns[frame.columns.duplicated()].tolist()
    if duplicates:
        raise TableError(f"duplicate column names: {', '.join(map(str, duplicates))}")
    blank = [i for i, name in enumerate(frame.columns) if not str(name).strip()]
    if blank:
        raise TableError(f"column {blank[0] + 1} has no name")
    return _normalise_missing(frame)


def _normalise_missing(frame: pd.DataFrame) -> pd.DataFrame:
    # pyarrow yields None for missing strings where the C engine yields NaN; one spelling of
    # "missing" keeps equality, hashing and sdmetrics' NaN handling identical across readers.
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and column.isna().any():
            frame[name] = column.where(column.notna(), np.nan)
    return frame


def read_column_names(path: Path | str, fmt: str) -> list[str]:
    """Only the header: lets a caller compare schemas before queueing the full read."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return [str(name) for name in pq.read_schema(path).names]
        frame = pd.read_csv(path, nrows=0, sep=delimiter(path, fmt), compression="gzip" if fmt == "csv.gz" else None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        raise TableError(f"cannot read the header as {fmt}: {exc}") from exc
    return [str(name) for name in frame.columns]
