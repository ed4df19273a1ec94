"""Recompute the audit chain; exit 0 when intact, 1 naming the first bad event otherwise."""

import json

from django.core.management.base import BaseCommand

from core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        result = verify_chain()
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), sort_keys=True))
        elif result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"audit chain intact: {result.checked} events, head #{result.head_sequence} {result.head_hash}"
                )
            )
        else:
            self.stderr.write(
                self.style.ERROR(f"audit chain BROKEN at event {result.first_bad_sequence}: {result.reason}")
            )
        if not result.ok:
            raise SystemExit(1)
