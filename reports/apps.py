from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        from core.jobs import register_kind
        from registry.hooks import evidence_changed

        from .receivers import card_refresh_schedule

        register_kind("export", "reports.services.exports:ExportJobKind")
        evidence_changed.connect(card_refresh_schedule)
