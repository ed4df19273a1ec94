"""Ship the global default release policy (thresholds documented in governance/default_policy.py)."""

from django.db import migrations

from governance.default_policy import create_default_policy


def forwards(apps, schema_editor):
    create_default_policy(
        apps.get_model("governance", "Policy"),
        apps.get_model("governance", "PolicyRule"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_policies_and_reviews")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
