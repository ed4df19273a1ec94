"""Projects, memberships, tokens and the audit trail now belong to the core app (core 0001).

State only: their tables stay as they are (core's models name them with ``db_table``). Runs after every app
has pointed its foreign keys at core.Project, so no model state ever refers to a removed model.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("governance", "0008_status_choices"),
        ("registry", "0012_jobs_framework_and_core_project"),
        ("reports", "0003_jobs_framework_and_core_project"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="policy",
                    name="project",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="policies",
                        to="core.project",
                    ),
                ),
                migrations.DeleteModel(name="ApiToken"),
                migrations.DeleteModel(name="Membership"),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="AuditHead"),
                migrations.DeleteModel(name="Project"),
            ],
            database_operations=[],
        )
    ]
