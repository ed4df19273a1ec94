"""The admin: scoped to the viewer's projects, evidence read-only, provenance at a glance."""

import pytest
from django.test import Client

from core.context import Actor
from core.services import project_ensure
from tests.factories import DatasetVersionFactory, SourceDatasetFactory
from tests.support import staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(project, other_project):
    source = SourceDatasetFactory(project=project, namespace="uci", name="adult", contains_personal_data=True)
    mine = DatasetVersionFactory(
        dataset__project=project,
        dataset__name="adult",
        generator__name="ctgan.CTGAN",
        generator_parameters={"epochs": 300, "batch_size": 500},
        seed=1234,
        code_version="git:abc123",
        sources=[source],
    )
    theirs = DatasetVersionFactory(dataset__project=other_project, dataset__name="secret-ds")
    return mine, theirs


def test_reviewer_sees_only_their_projects_versions(reviewer, versions):
    mine, theirs = versions
    client = staff_client(reviewer)
    page = client.get("/admin/registry/datasetversion/")
    assert page.status_code == 200
    assert str(mine.dataset) in page.content.decode()
    assert "secret-ds" not in page.content.decode()
    assert client.get(f"/admin/registry/datasetversion/{theirs.pk}/change/").status_code == 302


def test_version_page_shows_provenance_and_is_read_only(reviewer, versions):
    mine, _ = versions
    client = staff_client(reviewer)
    page = client.get(f"/admin/registry/datasetversion/{mine.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<code>uci:adult</code>" in html
    assert "⚠ personal data" in html
    assert "<code>ctgan.CTGAN</code>" in html
    assert "seed <code>1234</code>" in html
    assert "&quot;batch_size&quot;: 500" in html
    assert 'name="_save"' not in html
    response = client.post(f"/admin/registry/datasetversion/{mine.pk}/change/", {"status": "approved"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.status == "registered"


def test_audit_trail_is_visible_to_auditors_but_not_reviewers(project, reviewer, auditor):
    project_ensure(actor=Actor.system("test"), slug="acme")  # exists: no event
    client = staff_client(auditor)
    page = client.get("/admin/core/auditevent/")
    assert page.status_code == 200
    assert "token.issued" in page.content.decode()
    assert staff_client(reviewer).get("/admin/core/auditevent/").status_code == 403


def test_audit_events_cannot_be_added_changed_or_deleted_even_by_superusers(admin_client, pipeline):
    from core.models import AuditEvent

    event = AuditEvent.objects.first()
    assert admin_client.get("/admin/core/auditevent/add/").status_code == 403
    assert admin_client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    page = admin_client.get(f"/admin/core/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_member_without_staff_flag_cannot_enter_the_admin(pipeline):
    client = Client()
    client.force_login(pipeline.user)
    assert client.get("/admin/").status_code == 302


def test_admin_index_lists_registry_models_for_a_member(auditor):
    html = staff_client(auditor).get("/admin/").content.decode()
    for label in ("Dataset versions", "Datasets", "Source datasets", "Generators", "Audit events"):
        assert label in html


def test_member_of_the_other_project_sees_only_that_project(outsider, versions):
    html = staff_client(outsider).get("/admin/registry/datasetversion/").content.decode()
    assert "1 dataset version" in html
    assert "other/secret-ds" in html
    assert "acme/adult" not in html
