"""Shared fixtures: isolated storage, eager Celery, members with tokens, small real tables."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from governance.models import Project
from tests.factories import ProjectFactory
from tests.support import ADULT, Member, make_member


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Every test gets its own storage root and one allowed data root."""
    settings.REGISTRY_STORAGE_ROOT = tmp_path / "storage"
    settings.REGISTRY_DATA_ROOTS = [(tmp_path / "data").resolve()]
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process unless a test asks for the real worker (marker `worker`)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _audit_table_flushable(request):
    """On PostgreSQL the audit table refuses TRUNCATE; let transactional tests' teardown flush it.

    The triggers stay active while the test runs; only the teardown flush runs as replica, which
    skips ordinary triggers (the test database user is a superuser, like the CI's).
    """
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
    if not transactional or connection.vendor != "postgresql":
        yield
        return
    request.getfixturevalue("transactional_db")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def data_root(_isolated_storage) -> Path:
    return (_isolated_storage / "data").resolve()


@pytest.fixture
def project(db) -> Project:
    return ProjectFactory(slug="acme")


@pytest.fixture
def other_project(db) -> Project:
    return ProjectFactory(slug="other")


@pytest.fixture
def pipeline(project) -> Member:
    return make_member(project, "pipeline", "pipe")


@pytest.fixture
def reviewer(project) -> Member:
    return make_member(project, "reviewer", "rev")


@pytest.fixture
def auditor(project) -> Member:
    return make_member(project, "auditor", "aud")


@pytest.fixture
def outsider(other_project) -> Member:
    """A pipeline member of another project."""
    return make_member(other_project, "pipeline", "outsider")


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return pd.read_csv(ADULT)


@pytest.fixture(scope="session")
def adult_head_csv(adult) -> bytes:
    """The first 200 rows of UCI Adult as CSV bytes."""
    buffer = io.StringIO()
    adult.head(200).to_csv(buffer, index=False)
    return buffer.getvalue().encode()
