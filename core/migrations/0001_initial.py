"""The identity-and-trail models move here from the governance app, which created their tables.

Nothing changes in the database: the tables keep their names (``db_table``), so this migration only tells
Django's model state where the models live now (governance 0009 removes them from governance's state), and
points existing content types at the new app so admin history and permissions follow the models.
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ["project", "membership", "apitoken", "auditevent", "audithead"]


def _relabel(apps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        # A fresh database has neither row yet (post_migrate creates them after the last migration).
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(apps, schema_editor):
    _relabel(apps, "governance", "core")


def move_content_types_back(apps, schema_editor):
    _relabel(apps, "core", "governance")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("governance", "0008_status_choices"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("sequence", models.BigIntegerField(primary_key=True, serialize=False)),
                ("occurred_at", models.DateTimeField()),
                ("actor_user_id", models.BigIntegerField(blank=True, null=True)),
                ("actor_username", models.CharField(blank=True, max_length=150)),
                ("actor_via", models.CharField(blank=True, max_length=64)),
                ("action", models.CharField(db_index=True, max_length=64)),
                ("object_type", models.CharField(max_length=64)),
                ("object_id", models.CharField(max_length=64)),
                ("object_repr", models.CharField(blank=True, max_length=255)),
                ("project_id", models.BigIntegerField(blank=True, null=True)),
                ("project_slug", models.CharField(blank=True, max_length=63)),
                ("before_json", models.TextField(default="null")),
                ("after_json", models.TextField(default="null")),
                ("request_id", models.CharField(blank=True, max_length=64)),
                ("client_ip", models.CharField(blank=True, max_length=45)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64, unique=True)),
            ],
            options={
                "db_table": "governance_auditevent",
                "ordering": ["sequence"],
                "indexes": [
                    models.Index(fields=["project_id", "sequence"], name="audit_project_seq"),
                    models.Index(fields=["object_type", "object_id"], name="audit_object"),
                    models.Index(fields=["occurred_at"], name="audit_time"),
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("sequence", models.BigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
            options={
                "db_table": "governance_audithead",
                "constraints": [models.CheckConstraint(condition=models.Q(("id", 1)), name="audit_head_singleton")],
            },
        ),
        migrations.CreateModel(
            name="Project",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "slug",
                    models.CharField(
                        max_length=63,
                        unique=True,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z0-9][a-z0-9-]{0,62}$",
                                "Use lowercase letters, digits and hyphens (at most 63 characters).",
                            )
                        ],
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                ("description", models.TextField(blank=True)),
                ("required_approvals", models.PositiveSmallIntegerField(default=1)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                "db_table": "governance_project",
                "ordering": ["slug"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("required_approvals__gte", 1)), name="project_approvals_min_one"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(blank=True, max_length=100)),
                ("prefix", models.CharField(db_index=True, max_length=16)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to="core.project",
                    ),
                ),
            ],
            options={
                "db_table": "governance_apitoken",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("pipeline", "Pipeline"),
                            ("reviewer", "Reviewer"),
                            ("auditor", "Auditor"),
                            ("admin", "Project admin"),
                        ],
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="core.project"
                    ),
                ),
            ],
            options={
                "db_table": "governance_membership",
                "ordering": ["project__slug", "user__username", "role"],
                "constraints": [
                    models.UniqueConstraint(fields=("project", "user", "role"), name="membership_unique_role"),
                    models.CheckConstraint(
                        condition=models.Q(("role__in", ["pipeline", "reviewer", "auditor", "admin"])),
                        name="membership_role_valid",
                    ),
                ],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
