from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self):
        from core.hooks import worker_tick
        from core.jobs import register_kind

        from .lineage.emit import send_lineage_outbox_soon

        register_kind("registration", "registry.services.registration_jobs:RegistrationJobKind")
        register_kind("evaluation", "registry.services.evaluation_runs:EvaluationJobKind")
        # The outbox of the registry's own OpenLineage events is retried by every worker, not by celery beat.
        worker_tick.connect(send_lineage_outbox_soon)
