"""Celery tasks of the registry, for the worker's autodiscovery. Registrations and evaluations are jobs, run by
core.jobs; the task left here sends the registry's own OpenLineage events."""

from .lineage.emit import send_lineage_outbox

__all__ = ["send_lineage_outbox"]
