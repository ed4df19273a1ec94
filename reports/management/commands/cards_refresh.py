"""Render the card of every version (or one project's) whose evidence changed since its latest revision."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registry.models import DatasetVersion
from reports.models import CardTrigger
from reports.services.cards import card_refresh


class Command(BaseCommand):
    help = "Refresh dataset cards: a new revision only where the evidence changed (safe to run any time)."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="only this project's versions (slug)")

    def handle(self, *args, **options):
        versions = DatasetVersion.objects.select_related("dataset__project").order_by(
            "dataset__project__slug", "dataset__name", "number"
        )
        if options["project"]:
            versions = versions.filter(dataset__project__slug=options["project"])
        created = 0
        for version in versions.iterator(chunk_size=200):
            refresh = card_refresh(version=version, trigger=CardTrigger.BACKFILL)
            created += refresh.created
            state = f"revision {refresh.card.revision}" + (" (new)" if refresh.created else "")
            self.stdout.write(f"{version}: {state}")
        self.stdout.write(f"{created} new card revisions")
