"""Production configuration: refuses to start without a secret, and passes Django's deploy checklist."""

import os
import secrets
import subprocess
import sys

from common.evidence import generate_private_key, private_key_pem
from tests.support import REPO


def _manage(*args, **env):
    base = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY") and not k.startswith("REGISTRY_SIGNING")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="false")
    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set. Production (DEBUG off) refuses to "
        "start without one; set SECRET_KEY, or DEBUG=true for local development." in result.stderr
    )


def test_deploy_checklist_is_clean_in_production(tmp_path):
    key = tmp_path / "signing-key.pem"
    key.write_bytes(private_key_pem(generate_private_key()))
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        REGISTRY_SIGNING_KEY_FILE=str(key),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_a_malformed_boolean_is_named():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG='maybe' is not a boolean (use true/false)" in result.stderr


def test_openapi_schema_is_valid_and_warning_free():
    result = _manage("spectacular", "--validate", "--fail-on-warn", DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "/api/v1/versions/:" in result.stdout
    assert "bearerAuth:" in result.stdout


def test_django_setup_does_not_load_the_data_stack():
    """Workers, exports and commands stay small: django.setup() loads no pandas, and even the URLconf (the
    web process) loads no matplotlib, sdmetrics or scikit-learn until a request needs them."""
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
        "heavy = ('pandas', 'matplotlib', 'sdmetrics', 'sklearn'); django.setup(); "
        "print(sorted(m for m in heavy if m in sys.modules)); import config.urls; "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    base = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**base, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout.split("\n")[:2]) == (0, ["[]", "['pandas']"]), result.stderr
