"""The registry's bounds on tables (``tables.limits``) from its settings, and the HTTP error for each refusal.

No pandas here: services that only check a header or map an error import this without the data stack.
"""

from __future__ import annotations

from django.conf import settings

from core.errors import InvalidInput, PayloadTooLarge

from .tables.formats import TableError
from .tables.limits import TableLimits, TableTooLarge


def table_limits() -> TableLimits:
    """The bounds every table the registry reads must keep (README, "Limits"), from the settings."""
    return TableLimits(
        max_inflated_bytes=settings.REGISTRY_MAX_INFLATED_BYTES,
        max_inflation_ratio=settings.REGISTRY_MAX_INFLATION_RATIO,
        max_columns=settings.REGISTRY_MAX_COLUMNS,
        max_column_name_chars=settings.REGISTRY_MAX_COLUMN_NAME_CHARS,
        max_cell_bytes=settings.REGISTRY_MAX_CELL_BYTES,
    )


def table_input_error(exc: TableError, field: str) -> InvalidInput | PayloadTooLarge:
    """The domain error for a table that cannot be read: 413 for a size limit, else 400; ``field`` named."""
    if isinstance(exc, TableTooLarge):
        return PayloadTooLarge(str(exc), field=field)
    return InvalidInput(str(exc), field=field)
