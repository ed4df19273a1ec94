"""Verify an export zip offline: the same code as ``python -m common.evidence verify-export`` (no database)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from common.evidence.cli import add_arguments, verify_export_command


class Command(BaseCommand):
    help = (
        "Verify an audit export zip with a trusted public key, without the database: the manifest's signature, "
        "every file's SHA-256, the exported events' chain, the signed checkpoint and the events' inclusion in it, "
        "and (--checkpoint) that the trail still extends checkpoints kept from earlier exports. Exit 0 if verified."
    )
    requires_system_checks: list = []  # it reads a zip, nothing of this installation

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        code = verify_export_command(options["export"], options["key"], options["checkpoint"], self.stdout.write)
        if code:
            raise SystemExit(code)
