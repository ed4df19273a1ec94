"""Registrations and evaluations become kinds of the one job framework (core.models.Job); projects live in core."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("registry", "0011_outbox_backoff"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The project table stays where it is (core 0001): only the model state points at core.Project now.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="dataset",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="datasets", to="core.project"
                    ),
                ),
                migrations.AlterField(
                    model_name="generator",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="generators", to="core.project"
                    ),
                ),
                migrations.AlterField(
                    model_name="lineageevent",
                    name="project",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="core.project"),
                ),
                migrations.AlterField(
                    model_name="lineagenode",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.project"
                    ),
                ),
                migrations.AlterField(
                    model_name="lineagerun",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.project"
                    ),
                ),
                migrations.AlterField(
                    model_name="registrationjob",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="registration_jobs", to="core.project"
                    ),
                ),
                migrations.AlterField(
                    model_name="sourcedataset",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="sources", to="core.project"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RemoveConstraint(
            model_name="evaluation",
            name="evaluation_state",
        ),
        migrations.RemoveField(
            model_name="evaluation",
            name="requeues",
        ),
        migrations.RemoveField(
            model_name="registrationjob",
            name="requeues",
        ),
        migrations.AddField(
            model_name="evaluation",
            name="owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="publications",
            field=models.PositiveSmallIntegerField(default=0, help_text="hand-offs to the broker since queued"),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="evaluation",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="registrationjob",
            name="owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="registrationjob",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, help_text="percent, 0 to 100"),
        ),
        migrations.AddField(
            model_name="registrationjob",
            name="publications",
            field=models.PositiveSmallIntegerField(default=0, help_text="hand-offs to the broker since queued"),
        ),
        migrations.AddField(
            model_name="registrationjob",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="registrationjob",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="registrationjob",
            name="step",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="evaluation",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, help_text="percent, 0 to 100"),
        ),
        migrations.AlterField(
            model_name="evaluation",
            name="requested_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AlterField(
            model_name="registrationjob",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name="registrationjob",
            name="requested_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AlterField(
            model_name="registrationjob",
            name="state",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                ],
                db_index=True,
                default="queued",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="evaluation",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["queued", "running", "succeeded", "failed"])),
                name="registry_evaluation_state",
            ),
        ),
        migrations.AddConstraint(
            model_name="evaluation",
            constraint=models.CheckConstraint(
                condition=models.Q(("progress__lte", 100)), name="registry_evaluation_progress"
            ),
        ),
        migrations.AddConstraint(
            model_name="registrationjob",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["queued", "running", "succeeded", "failed"])),
                name="registry_registrationjob_state",
            ),
        ),
        migrations.AddConstraint(
            model_name="registrationjob",
            constraint=models.CheckConstraint(
                condition=models.Q(("progress__lte", 100)), name="registry_registrationjob_progress"
            ),
        ),
    ]
