"""Reading tables: tab- and comma-separated text, plain or gzip, read by what the bytes hold."""

import gzip

import pandas as pd
import pytest

from registry.tables.formats import TableError, format_from_name, sniff_format
from registry.tables.reading import read_column_names, read_table

ROWS = b'name\tcity\tage\n"Doe, Jane"\tParis, FR\t41\nRoe\tOslo\t37\n'


@pytest.mark.parametrize(("name", "compress"), [("people.tsv", False), ("people.tsv.gz", True)])
def test_tab_separated_text_is_split_on_tabs(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(gzip.compress(ROWS) if compress else ROWS)
    fmt = sniff_format(path)
    assert fmt == format_from_name(name) == ("csv.gz" if compress else "csv")
    assert read_column_names(path, fmt) == ["name", "city", "age"]
    frame = read_table(path, fmt)
    expected = pd.DataFrame({"name": ["Doe, Jane", "Roe"], "city": ["Paris, FR", "Oslo"], "age": [41, 37]})
    pd.testing.assert_frame_equal(frame, expected)


def test_a_tab_inside_a_quoted_csv_header_does_not_make_it_tab_separated(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b'"a\tb",c\n1,2\n')
    assert read_column_names(path, "csv") == ["a\tb", "c"]
    # ... and a tab is a control character no column name may hold (issue 13): refused, naming it.
    with pytest.raises(TableError, match=r"column 1 must not contain .* \(U\+0009 at position 2\)"):
        read_table(path, "csv")
