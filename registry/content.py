"""What the registry knows about a table's bytes: fingerprint, format, schema and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.digest import sha256_file

from .table_limits import table_input_error, table_limits
from .tables.formats import TableError, check_declared_format, sniff_format
from .tables.reading import read_table
from .tables.schema import schema_hash, table_schema


@dataclass(frozen=True)
class ContentFacts:
    """Facts about one file, computed by the registry or declared by the registrant."""

    fingerprint: str
    fingerprint_source: str
    schema: list[dict] = field(default_factory=list)
    row_count: int = 0
    byte_count: int | None = None
    format: str = ""
    storage_uri: str = ""
    stored_file: str = ""

    @property
    def column_count(self) -> int:
        return len(self.schema)

    @property
    def schema_hash(self) -> str:
        return schema_hash(self.schema)


def inspect_file(
    path: Path, *, declared_format: str | None, sha256: str | None = None, field_name: str = "file"
) -> ContentFacts:
    """Detect the real format, parse the table and compute its facts; InvalidInput names the field."""
    try:
        fmt = sniff_format(path)
        check_declared_format(fmt, declared_format)
        frame = read_table(path, fmt, limits=table_limits())
    except TableError as exc:
        raise table_input_error(exc, field_name) from exc
    if sha256 is None:
        digest = sha256_file(path)
        sha256, size = digest.sha256, digest.byte_count
    else:
        size = path.stat().st_size
    return ContentFacts(
        fingerprint=sha256,
        fingerprint_source="computed",
        schema=table_schema(frame),
        row_count=int(frame.shape[0]),
        byte_count=size,
        format=fmt,
    )
