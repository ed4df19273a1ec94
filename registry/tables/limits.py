"""What a table may be before the registry reads it: bounds on decompression, columns, names and cells.

Every file the registry reads (an upload, a ``file://`` version, an evaluation's reference or holdout) can be
hostile or careless: a small gzip that inflates to gigabytes, 100,000 columns, a megabyte in one cell, bytes
that are not UTF-8, nested Parquet types nothing downstream understands. These checks run before or while the
table is read, each naming the limit and the setting that moves it. No Django here: the registry builds a
``TableLimits`` from its settings (``registry.table_limits.table_limits``).
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

from common.text import forbidden_character

from .formats import TableError


class TableTooLarge(TableError):
    """The table is over a size limit (HTTP 413): the message names the limit and its setting."""


@dataclass(frozen=True)
class TableLimits:
    """Bounds on one table; ``setting(field)`` names the setting that moves each (REGISTRY_ + the field)."""

    max_inflated_bytes: int = 1024**3  # as REGISTRY_MAX_UPLOAD_BYTES: inflated, a file may be as large as an upload
    max_inflation_ratio: int = 200
    max_columns: int = 2_000
    max_column_name_chars: int = 256
    max_cell_bytes: int = 64 * 1024

    @staticmethod
    def setting(name: str) -> str:
        return f"REGISTRY_{name.upper()}"

    def inflation_cap(self, compressed_bytes: int) -> tuple[int, str]:
        """The most a gzip file of ``compressed_bytes`` may inflate to, and the limit that sets it, in words."""
        by_ratio = max(compressed_bytes, 1) * self.max_inflation_ratio
        if by_ratio < self.max_inflated_bytes:
            return by_ratio, (
                f"{self.max_inflation_ratio} times its compressed size of {compressed_bytes} bytes "
                f"({self.setting('max_inflation_ratio')})"
            )
        return self.max_inflated_bytes, f"{self.max_inflated_bytes} bytes ({self.setting('max_inflated_bytes')})"


class BoundedGzipReader(io.RawIOBase):
    """A gzip file's inflated bytes, read as a stream that raises TableTooLarge past ``limits``' cap.

    Reading stops at the cap: a bomb costs at most the cap in CPU and a buffer in memory, never the whole
    inflated size. Corrupt gzip data raises TableError.
    """

    def __init__(self, path: Path | str, limits: TableLimits):
        super().__init__()
        self._cap, self._why = limits.inflation_cap(Path(path).stat().st_size)
        self._inner = gzip.open(path, "rb")  # noqa: SIM115 - closed by close(), as a file object's is
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            count = self._inner.readinto(buffer)
        except (OSError, EOFError, zlib.error) as exc:
            raise TableError(f"the file is not valid gzip: {exc}") from exc
        self._read += count
        if self._read > self._cap:
            raise TableTooLarge(f"the gzip file inflates beyond {self._why}")
        return count

    def close(self) -> None:
        self._inner.close()
        super().close()


def check_header(names: list[str], limits: TableLimits) -> None:
    """Column count and column-name length, from the header alone (before any row is parsed)."""
    if len(names) > limits.max_columns:
        raise TableError(
            f"the table has {len(names)} columns; at most {limits.max_columns} are accepted "
            f"({limits.setting('max_columns')})"
        )
    for position, name in enumerate(names, start=1):
        problem = forbidden_character(str(name))
        if problem:
            raise TableError(f"the name of column {position} {problem}")
        if len(str(name)) > limits.max_column_name_chars:
            raise TableError(
                f"the name of column {position} is {len(str(name))} characters long; at most "
                f"{limits.max_column_name_chars} are accepted ({limits.setting('max_column_name_chars')})"
            )
