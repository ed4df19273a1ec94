"""Revoke an API token by the prefix shown in lists and audit events (e.g. after a leak)."""

from django.core.management.base import BaseCommand, CommandError

from core.context import Actor
from core.models import ApiToken
from core.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke API tokens: revoke_token PREFIX (the 8 characters after 'sdr_')."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, prefix, **options):
        tokens = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).select_related("user"))
        if not tokens:
            raise CommandError(f"no active token with prefix {prefix!r}")
        for token in tokens:
            api_token_revoke(actor=Actor.system("cli:revoke_token"), token=token)
            self.stdout.write(f"revoked {token.prefix}… of {token.user}")
