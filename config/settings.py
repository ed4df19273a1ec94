"""Settings for the synthetic dataset registry: every knob comes from the environment.

Without any variables the registry runs embedded (SQLite under var/, Celery tasks run in-process).
Production is whatever runs with DEBUG off: it refuses to start without SECRET_KEY.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from common.evidence import SigningKeyError, generate_private_key, load_private_key, private_key_pem

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: str = "", sep: str = ",") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(sep) if item.strip()]


DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(env_str("REGISTRY_VAR_DIR", str(BASE_DIR / "var"))).resolve()


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG off) refuses to start without one; "
            "set SECRET_KEY, or DEBUG=true for local development."
        )
    # Development only: a random key kept per checkout, so sessions survive restarts
    # and no key is ever written in the code.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _checked_signing_key(pem: str, where: str) -> str:
    try:
        load_private_key(pem)
    except SigningKeyError as exc:
        raise ImproperlyConfigured(f"{where} is not a usable signing key: {exc}") from exc
    return pem


def _signing_key_pem() -> str:
    """The Ed25519 private key (PEM) that signs attestations, export manifests and audit checkpoints."""
    pem = env_str("REGISTRY_SIGNING_KEY")  # the PEM itself, as a secret backend injects it
    if pem:
        return _checked_signing_key(pem, "REGISTRY_SIGNING_KEY")
    path = env_str("REGISTRY_SIGNING_KEY_FILE")
    if path:
        try:
            return _checked_signing_key(Path(path).read_text(), f"REGISTRY_SIGNING_KEY_FILE={path!r}")
        except OSError as exc:
            raise ImproperlyConfigured(f"REGISTRY_SIGNING_KEY_FILE={path!r} cannot be read: {exc}") from exc
    if not DEBUG:
        raise ImproperlyConfigured(
            "No signing key: set REGISTRY_SIGNING_KEY_FILE (a PEM file, e.g. from `manage.py signing_key create`) "
            "or REGISTRY_SIGNING_KEY (the PEM). Production (DEBUG off) refuses to start without one."
        )
    # Development only: a key kept per checkout (make run creates it), never one written in the code.
    path = VAR_DIR / "signing-key.pem"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(private_key_pem(generate_private_key()))
    return path.read_text()


REGISTRY_SIGNING_KEY_PEM = _signing_key_pem()
# The audit trail's signed checkpoints (core.checkpoints): the log's name in them (default: the public URL's
# host + "/audit"), and at least how often a worker signs one when events were added.
REGISTRY_LOG_ORIGIN = env_str("REGISTRY_LOG_ORIGIN")
REGISTRY_CHECKPOINT_MINUTES = env_int("REGISTRY_CHECKPOINT_MINUTES", 15)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Bottom up; each app imports only the ones above it in this list (checked by import-linter in make test).
    "core",
    "governance",
    "registry",
    "reports",
]

MIDDLEWARE = [
    "core.middleware.APIErrorMiddleware",  # outermost: sees every response, turns /api/ errors into JSON
    "django.middleware.security.SecurityMiddleware",
    # Production serves the admin's static files itself; runserver does it in development.
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'registry.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE: a write transaction takes the lock when it starts, so two writers queue
    # instead of failing with "database is locked" when a read lock would need upgrading.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# --- Registry -------------------------------------------------------------------------------
# Uploaded synthetic datasets live here, content-addressed by their SHA-256.
REGISTRY_STORAGE_ROOT = Path(env_str("REGISTRY_STORAGE_ROOT", str(VAR_DIR / "storage"))).resolve()
# file:// URIs are read only when they resolve (symlinks followed) under one of these roots.
REGISTRY_DATA_ROOTS = [Path(p).resolve() for p in env_list("REGISTRY_DATA_ROOTS", "", sep=os.pathsep)]
REGISTRY_MAX_UPLOAD_BYTES = env_int("REGISTRY_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024)
# Uploads above this size are fingerprinted and inspected by a Celery task (202 + job).
# Bounds on every table the registry reads (README, "Limits"): a gzip file inflates to at most
# REGISTRY_MAX_INFLATED_BYTES and REGISTRY_MAX_INFLATION_RATIO times its size (413 beyond); columns, column-name
# length and cell size are refused beyond theirs (400 naming the column).
REGISTRY_MAX_INFLATED_BYTES = env_int("REGISTRY_MAX_INFLATED_BYTES", 1024 * 1024 * 1024)
REGISTRY_MAX_INFLATION_RATIO = env_int("REGISTRY_MAX_INFLATION_RATIO", 200)
REGISTRY_MAX_COLUMNS = env_int("REGISTRY_MAX_COLUMNS", 2000)
REGISTRY_MAX_COLUMN_NAME_CHARS = env_int("REGISTRY_MAX_COLUMN_NAME_CHARS", 256)
REGISTRY_MAX_CELL_BYTES = env_int("REGISTRY_MAX_CELL_BYTES", 64 * 1024)
# JSON bodies and JSON form fields nest at most this deep (400 naming the limit beyond).
REGISTRY_MAX_JSON_DEPTH = env_int("REGISTRY_MAX_JSON_DEPTH", 32)
REGISTRY_INLINE_INSPECT_MAX_BYTES = env_int("REGISTRY_INLINE_INSPECT_MAX_BYTES", 16 * 1024 * 1024)
# Real reference data sent for an evaluation is deleted after the run (only its fingerprint is kept)
# unless this is on.
REGISTRY_KEEP_REFERENCE_DATA = env_bool("REGISTRY_KEEP_REFERENCE_DATA", False)
# Jobs (core.jobs): a running job beats its heart this often; one silent for REGISTRY_JOB_STALE_SECONDS (or
# whose process on this host is gone) is taken back and run again, and failed after REGISTRY_JOB_MAX_ATTEMPTS.
REGISTRY_JOB_HEARTBEAT_SECONDS = env_int("REGISTRY_JOB_HEARTBEAT_SECONDS", 10)
REGISTRY_JOB_STALE_SECONDS = env_int("REGISTRY_JOB_STALE_SECONDS", 60)
REGISTRY_JOB_MAX_ATTEMPTS = env_int("REGISTRY_JOB_MAX_ATTEMPTS", 3)
# Every worker runs the reaper this often (and at start): no celery beat is needed.
REGISTRY_JOB_REAP_SECONDS = env_int("REGISTRY_JOB_REAP_SECONDS", 15)
# A job handed to the broker but still queued this long (message lost, or no worker on the queue) is handed
# over again, and failed after REGISTRY_JOB_MAX_ATTEMPTS hand-offs while no worker is busy.
REGISTRY_JOB_QUEUED_STALE_SECONDS = env_int("REGISTRY_JOB_QUEUED_STALE_SECONDS", 600)
# An evaluation whose DCR searches exceed this many row pairs cuts them into parts of about this size, which
# the other running workers help compute (registry.services.evaluation_parts); 0 = never split. At most
# REGISTRY_EVALUATION_PART_HELPERS helper tasks per evaluation; a helper's claim on a part lapses after
# REGISTRY_JOB_STALE_SECONDS without its heartbeat (REGISTRY_JOB_HEARTBEAT_SECONDS).
REGISTRY_EVALUATION_PART_PAIRS = env_int("REGISTRY_EVALUATION_PART_PAIRS", 1_000_000_000)
REGISTRY_EVALUATION_PART_HELPERS = env_int("REGISTRY_EVALUATION_PART_HELPERS", 8)
# The registry's public base URL: custom facets' _schemaURL and links in emitted events point here.
REGISTRY_PUBLIC_URL = env_str("REGISTRY_PUBLIC_URL", "http://127.0.0.1:8000")
# The OpenLineage namespace of the registry's own datasets (named "<project>/<dataset>" in it).
REGISTRY_LINEAGE_NAMESPACE = env_str("REGISTRY_LINEAGE_NAMESPACE", "synthetic-registry")
# Trust X-Forwarded-For for the client IP in the audit trail only behind a known proxy.
REGISTRY_TRUST_X_FORWARDED_FOR = env_bool("REGISTRY_TRUST_X_FORWARDED_FOR", False)

# Django's own request-body limit only guards non-file form fields; files are bounded by
# REGISTRY_MAX_UPLOAD_BYTES in the upload handler.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Synthetic Dataset Registry API",
    "DESCRIPTION": "Register, evaluate, govern and trace synthetic dataset versions.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.document_errors",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TableFormatEnum": "registry.tables.formats.FORMATS",
        "EvaluationOriginEnum": "registry.models.evaluations.EvaluationOrigin",
        "VersionStatusEnum": "registry.models.versions.VersionStatus",
    },
}

# --- Celery ---------------------------------------------------------------------------------
# No broker: run tasks in-process, so the embedded default needs no other service (memory:// is
# never contacted then; it only keeps Celery from looking for a broker on localhost).
CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "registry")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task that takes longer than the visibility timeout would be delivered twice on Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600)}
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3 * 3600)
# A broker that is down must not hold a request for long: the job is in the database (outbox) and the
# reaper hands it over later, so a publish gives up after about a second.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}

# --- Security (checked by `manage.py check --deploy`) ---------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # /healthz is probed over plain HTTP from inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "copulas": {"level": "WARNING"}},
}
