"""Create (if missing) a user, a project and a membership, then print a new API token for that project."""

from django.core.management.base import BaseCommand, CommandError

from core.audit import audited_atomic
from core.context import Actor
from core.errors import DomainError
from core.roles import Role
from core.services import api_token_issue, membership_grant, project_ensure, user_ensure


class Command(BaseCommand):
    help = "Issue an API token: issue_token USERNAME --project SLUG --role ROLE"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--project", required=True, help="project slug (created if missing)")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", default="", help="a label for the token, e.g. the pipeline's name")
        parser.add_argument("--quiet", action="store_true", help="print only the token")

    def handle(self, *args, username, project, role, name, quiet, **options):
        actor = Actor.system("cli:issue_token")
        try:
            # One transaction: a bad project slug must not leave a freshly created user behind.
            with audited_atomic():
                user = user_ensure(actor=actor, username=username)
                project_row = project_ensure(actor=actor, slug=project)
                membership_grant(actor=actor, project=project_row, user=user, role=role)
                _, raw = api_token_issue(actor=actor, user=user, project=project_row, name=name)
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.reason}") from exc
        if quiet:
            self.stdout.write(raw)
            return
        self.stdout.write(
            f"Token for {username} ({role} in {project}); shown once, store it now:\n{raw}\n"
            f"Use it as:  Authorization: Bearer {raw}"
        )
