"""Concurrent registrations of the same bytes on PostgreSQL: exactly one version, a valid audit chain."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.audit import verify_chain
from core.models import AuditEvent
from registry.models import Dataset, DatasetVersion, Generator, SourceDataset
from tests.factories import ProjectFactory
from tests.support import make_member, registration_form, requires_postgres, upload

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 20


def test_twenty_parallel_registrations_of_one_file_make_one_version(adult_head_csv):
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    barrier = threading.Barrier(PARALLEL)

    def register(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {member.token}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v1/versions/",
                {**registration_form(), "file": upload(adult_head_csv)},
                format="multipart",
            )
            return response.status_code, response.json()["id"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(register, range(PARALLEL)))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (PARALLEL - 1) + [201]
    assert len({version_id for _, version_id in results}) == 1
    assert DatasetVersion.objects.count() == 1
    assert (Dataset.objects.count(), Generator.objects.count(), SourceDataset.objects.count()) == (1, 1, 1)
    assert AuditEvent.objects.filter(action="version.registered").count() == 1
    assert verify_chain().ok


def test_parallel_registrations_of_different_files_get_distinct_numbers(adult_head_csv):
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    barrier = threading.Barrier(8)

    def register(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {member.token}")
        content = adult_head_csv + f"{i},x,1,x,1,x,x,x,x,x,1,1,1,x,x\n".encode()
        try:
            barrier.wait(timeout=30)
            response = client.post(
                "/api/v1/versions/", {**registration_form(), "file": upload(content)}, format="multipart"
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(register, range(8)))
    assert statuses == [201] * 8
    assert sorted(DatasetVersion.objects.values_list("number", flat=True)) == list(range(1, 9))
    assert verify_chain().ok
