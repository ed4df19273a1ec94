from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Identity and audit trail"

    def ready(self):
        # Importing registers: drf-spectacular's extension (by subclassing) and the job task with Celery.
        from . import jobs, openapi  # noqa: F401
        from .checkpoints import checkpoint_on_tick
        from .hooks import worker_tick

        worker_tick.connect(checkpoint_on_tick)
