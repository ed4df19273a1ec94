"""Recompute the audit chain and check every signed checkpoint; exit 0 when both hold, 1 naming the failure."""

import json

from django.core.management.base import BaseCommand

from core.audit import verify_chain
from core.checkpoints import verify_checkpoints


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the audit trail and its signed checkpoints (each signature under a published "
        "key, each root against the events as they are now: a consistently recomputed chain fails here)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        chain = verify_chain()
        signed = verify_checkpoints()
        ok = chain.ok and signed["ok"]
        if options["json"]:
            self.stdout.write(json.dumps({**chain.as_dict(), "ok": ok, "checkpoints": signed}, sort_keys=True))
        else:
            if chain.ok:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"audit chain intact: {chain.checked} events, head #{chain.head_sequence} {chain.head_hash}"
                    )
                )
            else:
                self.stderr.write(
                    self.style.ERROR(f"audit chain BROKEN at event {chain.first_bad_sequence}: {chain.reason}")
                )
            if signed["ok"]:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"checkpoints hold: {signed['checked']} signed checkpoint(s), the latest of "
                        f"{signed['latest_tree_size']} events"
                        if signed["checked"]
                        else "no signed checkpoint yet (manage.py audit_checkpoint signs one)"
                    )
                )
            for failure in signed["failures"]:
                self.stderr.write(self.style.ERROR(f"checkpoint {failure['tree_size']} FAILS: {failure['reason']}"))
        if not ok:
            raise SystemExit(1)
