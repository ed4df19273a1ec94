"""Admin: card links and downloads for members, export requests and downloads for auditors only."""

import io
import json
import zipfile

import pytest
from django.template.loader import render_to_string

from reports.models import Card, Export
from reports.services.cards import card_refresh
from tests.factories import DatasetVersionFactory
from tests.support import staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(project):
    return DatasetVersionFactory(dataset__project=project, dataset__name="adult", number=2)


def test_version_page_snippet_links_every_format(version):
    before = render_to_string("admin/reports/version_card.html", {"version": version})
    assert "not rendered yet: the first download renders it" in before
    card = card_refresh(version=version).card
    html = render_to_string("admin/reports/version_card.html", {"version": version})
    for fmt in ("html", "md", "json"):
        assert f'href="/admin/reports/card/version/{version.pk}/{fmt}/"' in html
    assert f"(revision 1, {card.created_at:%Y-%m-%d %H:%M} UTC, sha256" in html


@pytest.mark.parametrize(("fmt", "disposition"), [("html", "inline"), ("md", "attachment"), ("json", "attachment")])
def test_members_download_cards_from_the_admin(team, version, fmt, disposition):
    response = staff_client(team["reviewer"]).get(f"/admin/reports/card/version/{version.pk}/{fmt}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'{disposition}; filename="adult-v2-card-r1.{fmt}"'
    assert Card.objects.get().trigger == "on_demand"


def test_other_projects_staff_cannot_download_a_card(team, version):
    response = staff_client(team["outsider"]).get(f"/admin/reports/card/version/{version.pk}/md/")
    assert response.status_code == 403
    assert Card.objects.count() == 0


def test_card_list_shows_revisions_with_links_and_the_hash_of_each_format(team, version):
    card = card_refresh(version=version).card
    page = staff_client(team["pipeline"]).get("/admin/reports/card/").content.decode()
    for file in card.files.all():
        link = f'href="/admin/reports/card/version/{version.pk}/{file.format}/?revision=1"'
        assert f'<a {link}>{file.format}</a> <code title="{file.sha256}">{file.sha256[:12]}…</code>' in page


def test_an_auditor_requests_and_downloads_an_export_in_the_admin(team, version, django_capture_on_commit_callbacks):
    client = staff_client(team["auditor"])
    assert client.get("/admin/reports/export/add/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/reports/export/add/",
            {"project": team["auditor"].project.pk, "format": "pdf", "start": "", "end": ""},
        )
    assert (response.status_code, response["Location"]) == (302, "/admin/reports/export/")
    export = Export.objects.get()
    assert (export.state, export.format, export.requested_by.username) == ("succeeded", "pdf", "r-auditor")
    listing = client.get("/admin/reports/export/").content.decode()
    assert f'href="/admin/reports/export/{export.pk}/download/"' in listing
    download = client.get(f"/admin/reports/export/{export.pk}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(archive.namelist()) == [
        "audit_events.csv",  # the events the PDF lists, so that they verify offline
        "audit_proof.json",
        "checkpoint.json",
        "manifest.dsse.json",
        "manifest.json",
        "report.pdf",
        "signing_keys.json",
    ]
    assert json.loads(archive.read("manifest.json"))["versions"] == 1


@pytest.mark.parametrize("role", ["pipeline", "reviewer", "admin"])
def test_non_auditors_get_no_export_admin(team, role):
    client = staff_client(team[role])
    assert client.get("/admin/reports/export/").status_code == 403
    assert client.get("/admin/reports/export/add/").status_code == 403


def test_the_export_form_preselects_a_single_project_and_lists_inclusive_days(team, version):
    client = staff_client(team["auditor"])
    form = client.get("/admin/reports/export/add/").context["form"]
    assert form.fields["project"].initial == team["auditor"].project.pk
    client.post(
        "/admin/reports/export/add/",
        {"project": team["auditor"].project.pk, "format": "json", "start": "2026-01-01", "end": "2026-01-31"},
    )
    export = Export.objects.get()
    assert (export.period_start.isoformat(), export.period_end.isoformat()) == (
        "2026-01-01T00:00:00+00:00",
        "2026-02-01T00:00:00+00:00",
    )
    assert "from 2026-01-01 through 2026-01-31" in client.get("/admin/reports/export/").content.decode()
