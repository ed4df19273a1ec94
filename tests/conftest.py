"""Shared fixtures: isolated storage, eager Celery, members with tokens, small real tables."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from core.models import Project
from tests.factories import ProjectFactory
from tests.support import ADULT, Member, make_member
from tests.workers import WorkerSpace, require_worker_services


@pytest.fixture(autouse=True)
def _isolated_storage(settings, tmp_path):
    """Every test gets its own storage root and one allowed data root."""
    settings.REGISTRY_STORAGE_ROOT = tmp_path / "storage"
    settings.REGISTRY_DATA_ROOTS = [(tmp_path / "data").resolve()]
    (tmp_path / "data").mkdir()
    return tmp_path


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness buys nothing in tests and costs ~0.2 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(autouse=True)
def _default_policy(request):
    """The default policy comes from a data migration; a transactional test's flush deletes it, so restore it."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if marker is None and "db" not in names and "transactional_db" not in names:
        return
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from governance.default_policy import create_default_policy
    from governance.models import Policy, PolicyRule

    create_default_policy(Policy, PolicyRule)


@pytest.fixture
def data_root(_isolated_storage) -> Path:
    """The project acme's directory under the data root: the only place its file URIs may point."""
    path = (_isolated_storage / "data" / "acme").resolve()
    path.mkdir(exist_ok=True)
    return path


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


@pytest.fixture
def worker_space(transactional_db, tmp_path, settings):
    """Real processes for a `worker` test: PostgreSQL, a broker, a queue of its own, shared storage.

    This process publishes to the test's queue (not in-process) while the test runs; every process the
    test started is stopped at the end.
    """
    broker = require_worker_services()
    space = WorkerSpace(root=tmp_path / "space", broker=broker)
    space.storage.mkdir(parents=True)
    space.data.mkdir()
    settings.REGISTRY_STORAGE_ROOT = space.storage
    settings.REGISTRY_DATA_ROOTS = [space.data.resolve()]
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False  # _eager_celery restores it
    celery_app.conf.task_default_queue = space.queue
    yield space
    celery_app.conf.task_default_queue = previous_queue
    space.stop_all()


@pytest.fixture
def celery_worker_process(worker_space):
    """One real worker (`make worker`) on the test's queue, writing to the test database."""
    worker = worker_space.start_worker()
    return {"queue": worker_space.queue, "storage": worker_space.storage, "log": worker.log}
