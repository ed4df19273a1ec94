"""README's metric table is the catalogue in registry/evaluation/definitions.py, and lists every metric."""

from pathlib import Path

from registry.evaluation.definitions import catalogue, markdown_table
from tests.evaluation.test_engine import ALL_KEYS

README = Path(__file__).resolve().parent.parent / "README.md"
# Produced only for a version that declares constraints (tests/evaluation/test_native_constraints.py).
WITH_CONSTRAINTS = {"diagnostic.constraint_validity"}


def test_readme_carries_the_metric_catalogue_verbatim():
    assert markdown_table() in README.read_text(encoding="utf-8")


def test_the_catalogue_covers_every_metric_the_engine_produces():
    assert {row[0] for row in catalogue()} == ALL_KEYS | WITH_CONSTRAINTS
