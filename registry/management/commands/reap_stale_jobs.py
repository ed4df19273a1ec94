"""End or re-queue jobs left running by a process that stopped (run at start-up; beat runs it in production)."""

from django.core.management.base import BaseCommand

from registry.services.reaper import reap_stale_jobs


class Command(BaseCommand):
    help = "Re-queue (with a broker) or fail (embedded) jobs whose worker stopped sending heartbeats."

    def handle(self, *args, **options):
        counts = reap_stale_jobs()
        self.stdout.write(f"stale evaluations: {counts['evaluations']}, stale registrations: {counts['registrations']}")
