"""Celery tasks of the registry, for the worker's autodiscovery. Registrations and evaluations are jobs, run by
core.jobs; the tasks left here send the registry's own OpenLineage events and help a running evaluation with
its distance parts (services.evaluation_parts)."""

from celery import shared_task

from .lineage.emit import send_lineage_outbox
from .services.evaluation_runs import help_with_parts

__all__ = ["help_with_evaluation_parts", "send_lineage_outbox"]


@shared_task(name="registry.tasks.help_with_evaluation_parts", acks_late=True, ignore_result=True)
def help_with_evaluation_parts(evaluation_id: str) -> int:
    """Compute parts of a running evaluation until none is left (a killed helper's claims lapse and are retaken)."""
    return help_with_parts(evaluation_id)
