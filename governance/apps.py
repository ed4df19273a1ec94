from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self):
        from registry import hooks

        from . import receivers

        hooks.evaluation_started.connect(receivers.evaluation_started)
        hooks.evaluation_finished.connect(receivers.evaluation_finished)
