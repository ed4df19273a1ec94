"""End or re-queue jobs no worker is on: left running by a stopped process, or never started (run at start-up;
beat runs it in production)."""

from django.core.management.base import BaseCommand

from registry.services.reaper import reap_stale_jobs


class Command(BaseCommand):
    help = (
        "Re-queue (with a broker) or fail (embedded) jobs whose worker stopped sending heartbeats, "
        "and jobs still queued after REGISTRY_JOB_QUEUED_STALE_SECONDS."
    )

    def handle(self, *args, **options):
        counts = reap_stale_jobs()
        self.stdout.write(f"stale evaluations: {counts['evaluations']}, stale registrations: {counts['registrations']}")
