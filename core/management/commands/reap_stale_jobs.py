"""One reaper pass over every kind of job (`make run` runs it before serving; every worker runs it by itself)."""

from django.core.management.base import BaseCommand

from core.jobs import reap


class Command(BaseCommand):
    help = (
        "Hand queued jobs to the broker, take back (with a broker) or fail (embedded) jobs whose process is gone "
        "or whose heartbeat stopped, and end jobs that can never run, with the reason."
    )

    def handle(self, *args, **options):
        counts = reap()
        self.stdout.write(", ".join(f"{kind}: {count} reaped" for kind, count in counts.items()))
