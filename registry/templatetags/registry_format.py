"""Template filters for showing scores: fixed precision, and nothing invented for missing values."""

from django import template

register = template.Library()


@register.filter
def score(value, digits: int = 3) -> str:
    """0.891234 -> '0.891'; integers stay integers; None -> '—' (not evaluated)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def percent(value) -> str:
    if value is None:
        return "—"
    return f"{100 * float(value):.1f}%"
