"""Errors the evaluation engine raises for inputs it cannot evaluate."""

from __future__ import annotations


class EvaluationInputError(ValueError):
    """Inputs that cannot be evaluated; ``field`` names the culprit so a caller can map it to a 4xx."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")
