"""Loading tables into DataFrames: CSV (comma or tab), gzip CSV and Parquet, with one spelling of "missing"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .formats import FORMATS, TableError, delimiter


def _parquet_with_categories(path: Path | str) -> pd.DataFrame:
    """A Parquet file with its string columns dictionary-encoded: pandas categoricals, not one object per row.

    The strings are read straight into dictionaries (``read_dictionary``): no column of one string per row is
    ever built, in Arrow or in pandas, and each Arrow column is released as soon as pandas has it.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    strings = [field.name for field in schema if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)]
    table = pq.read_table(path, read_dictionary=strings)
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    # Arrow's allocator keeps the decoding buffers for reuse: give them back (about twice the table's size).
    pa.default_memory_pool().release_unused()
    return frame


def read_table(path: Path | str, fmt: str, *, strings_as_categories: bool = False) -> pd.DataFrame:
    """Load a CSV, gzip CSV or Parquet file into a DataFrame; raise TableError with the reason.

    ``strings_as_categories``: Parquet string columns come as pandas categoricals (the evaluation engine
    reads their codes instead of hashing every value; its preparation turns them into values again).
    """
    if fmt not in FORMATS:
        raise TableError(f"unsupported format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        if fmt == "parquet" and strings_as_categories:
            frame = _parquet_with_categories(path)
        elif fmt == "parquet":
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
