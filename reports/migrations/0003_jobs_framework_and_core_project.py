"""Exports become a kind of the one job framework (core.models.Job); projects live in core."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("reports", "0002_card_files"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The project table stays where it is (core 0001): only the model state points at core.Project now.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="export",
                    name="project",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="exports", to="core.project"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RemoveConstraint(
            model_name="export",
            name="export_state_valid",
        ),
        migrations.AddField(
            model_name="export",
            name="owner",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="export",
            name="publications",
            field=models.PositiveSmallIntegerField(default=0, help_text="hand-offs to the broker since queued"),
        ),
        migrations.AddField(
            model_name="export",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="export",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="export",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, help_text="percent, 0 to 100"),
        ),
        migrations.AddConstraint(
            model_name="export",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["queued", "running", "succeeded", "failed"])),
                name="reports_export_state",
            ),
        ),
        migrations.AddConstraint(
            model_name="export",
            constraint=models.CheckConstraint(
                condition=models.Q(("progress__lte", 100)), name="reports_export_progress"
            ),
        ),
    ]
