"""Sign a checkpoint of the audit trail now (workers do it every REGISTRY_CHECKPOINT_MINUTES) and print it."""

import json

from django.core.management.base import BaseCommand

from core.checkpoints import as_json, checkpoint_now


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit trail as it is now and print it as JSON (keep a copy outside the registry)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(as_json(checkpoint_now()), indent=1))
