"""Loading tables into DataFrames: CSV (comma or tab), gzip CSV and Parquet, with one spelling of "missing"."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .formats import FORMATS, TableError, delimiter
from .limits import BoundedGzipReader, TableLimits, check_header

DEFAULT_LIMITS = TableLimits()
# A header line longer than this is refused before it is parsed (2,000 columns of 256 characters fit).
_HEADER_BYTES = 1024 * 1024


def _parquet_with_categories(path: Path | str, schema) -> pd.DataFrame:
    """A Parquet file with its string columns dictionary-encoded: pandas categoricals, not one object per row.

    The strings are read straight into dictionaries (``read_dictionary``): no column of one string per row is
    ever built, in Arrow or in pandas, and each Arrow column is released as soon as pandas has it.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    strings = [field.name for field in schema if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)]
    table = pq.read_table(path, read_dictionary=strings)
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    # Arrow's allocator keeps the decoding buffers for reuse: give them back (about twice the table's size).
    pa.default_memory_pool().release_unused()
    return frame


def _check_parquet_schema(path: Path | str, limits: TableLimits):
    """The file's Arrow schema, once it keeps the header limits and has no nested column: lists, structs and
    maps have no sdtype and no metric reads them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    check_header([str(name) for name in schema.names], limits)
    for field in schema:
        if pa.types.is_nested(field.type):
            raise TableError(
                f"column {field.name!r} is of the nested Parquet type {field.type}; only flat columns (numbers, "
                "text, booleans, dates and times) can be registered: flatten it into columns first"
            )
    return schema


def _is_text(value: object) -> bool:
    if not isinstance(value, bytes):
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_cells(frame: pd.DataFrame, limits: TableLimits) -> None:
    """Every text cell is UTF-8 (the CSV reader hands back bytes where it is not) and within the cell limit."""
    for position, name in enumerate(frame.columns, start=1):
        column = frame[name]
        if column.dtype != object:
            continue
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind in ("bytes", "mixed"):
            row = next((row for row, value in enumerate(column, start=1) if not _is_text(value)), None)
            if row is not None:
                raise TableError(f"column {name!r} (column {position}) has bytes that are not UTF-8 in data row {row}")
        if kind not in ("string", "mixed"):
            continue
        lengths = column.str.len()
        longest = lengths.max()
        if pd.isna(longest) or longest * 4 <= limits.max_cell_bytes:
            continue  # no cell can be over the limit, even with 4-byte characters
        suspects = column[lengths * 4 > limits.max_cell_bytes].dropna()
        sizes = suspects.map(lambda value: len(value.encode("utf-8")) if isinstance(value, str) else 0)
        over = sizes[sizes > limits.max_cell_bytes]
        if len(over):
            raise TableError(
                f"a cell of column {name!r} (data row {int(over.index[0]) + 1}) is {int(over.iloc[0])} bytes long; "
                f"at most {limits.max_cell_bytes} are accepted ({limits.setting('max_cell_bytes')})"
            )


def read_table(
    path: Path | str, fmt: str, *, strings_as_categories: bool = False, limits: TableLimits = DEFAULT_LIMITS
) -> pd.DataFrame:
    """Load a CSV, gzip CSV or Parquet file into a DataFrame; raise TableError with the reason.

    ``strings_as_categories``: Parquet string columns come as pandas categoricals (the evaluation engine
    reads their codes instead of hashing every value; its preparation turns them into values again).
    ``limits``: bounds checked before and while reading (``limits``); TableTooLarge when the file is over a
    size limit, TableError for the others.
    """
    if fmt not in FORMATS:
        raise TableError(f"unsupported format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        if fmt == "parquet":
            schema = _check_parquet_schema(path, limits)
            frame = _parquet_with_categories(path, schema) if strings_as_categories else pd.read_parquet(path)
        else:
            sep = delimiter(path, fmt)
            check_header(read_column_names(path, fmt, limits, sep=sep), limits)
            with _source(path, fmt, limits) as source:
                # pyarrow's reader is multi-threaded: several times faster than the C engine on big files.
                frame = pd.read_csv(source, engine="pyarrow", sep=sep)
    except TableError:
        raise
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
    _check_cells(frame, limits)
    return _normalise_missing(frame)


def _source(path: Path | str, fmt: str, limits: TableLimits):
    """The bytes of a delimited file: a gzip file's through the bounded reader."""
    if fmt == "csv.gz":
        return io.BufferedReader(BoundedGzipReader(path, limits), buffer_size=1 << 20)
    return open(path, "rb")


def _normalise_missing(frame: pd.DataFrame) -> pd.DataFrame:
    # pyarrow yields None for missing strings where the C engine yields NaN; one spelling of
    # "missing" keeps equality, hashing and sdmetrics' NaN handling identical across readers.
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and column.isna().any():
            frame[name] = column.where(column.notna(), np.nan)
    return frame


def read_column_names(
    path: Path | str, fmt: str, limits: TableLimits = DEFAULT_LIMITS, *, sep: str | None = None
) -> list[str]:
    """Only the header: lets a caller compare schemas before queueing the full read (``sep``: the delimiter,
    if the caller found it already)."""
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return [str(name) for name in pq.read_schema(path).names]
        with _source(path, fmt, limits) as source:
            header = source.readline(_HEADER_BYTES + 1)
        if len(header) > _HEADER_BYTES:
            raise TableError(f"the header line is longer than {_HEADER_BYTES} bytes")
        frame = pd.read_csv(io.BytesIO(header), nrows=0, sep=sep or delimiter(path, fmt))
    except TableError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        raise TableError(f"cannot read the header as {fmt}: {exc}") from exc
    return [str(name) for name in frame.columns]
