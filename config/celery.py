"""The Celery application. With no CELERY_BROKER_URL, settings make every task run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker reaps jobs left by lost workers and hands queued jobs to the broker (core.jobs.worker).
app.steps["worker"].add("core.jobs.worker:MaintenanceStep")
