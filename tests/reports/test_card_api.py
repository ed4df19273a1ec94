"""GET /api/v1/versions/{id}/card/: every caller, every format, bad parameters, revisions."""

import hashlib
import json

import pytest
import yaml

from core.models import AuditEvent
from reports.cards.render import render_files
from reports.models import Card, CardFile
from reports.services.cards import card_refresh
from tests.factories import DatasetVersionFactory
from tests.reports.conftest import CALLERS

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}


@pytest.fixture
def version(project, team):
    return DatasetVersionFactory(dataset__project=project, dataset__name="adult", number=3)


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
@pytest.mark.parametrize("caller", CALLERS)
def test_card_authorization_matrix(client_of, version, caller, fmt):
    response = client_of(caller).get(f"/api/v1/versions/{version.pk}/card/", {"format": fmt})
    if caller == "anonymous":
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}
    elif caller == "outsider":
        assert response.status_code == 404
        assert response.json() == {"detail": "No DatasetVersion matches the given query."}
        assert Card.objects.count() == 0
    else:
        assert response.status_code == 200
        assert response["Content-Type"] == CONTENT_TYPES[fmt]
        assert response["Content-Disposition"] == f'inline; filename="adult-v3-card-r1.{fmt}"'
        assert response["X-Card-Revision"] == "1"


def test_each_format_is_the_same_revision(team, version):
    client = team["reviewer"].client
    url = f"/api/v1/versions/{version.pk}/card/"
    markdown = client.get(url, {"format": "md"}).content.decode()
    html = client.get(url, {"format": "html"})
    body = client.get(url).json()
    card = Card.objects.get()
    assert card.trigger == "on_demand"
    assert yaml.safe_load(markdown.split("---\n")[1])["synthetic"]["card_sha256"] == card.content_hash
    assert body["card"]["content_hash"] == card.content_hash
    assert f"<code>{card.content_hash}</code>" in html.content.decode()
    assert html["Content-Security-Policy"] == (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )


def test_unknown_format_is_a_400_naming_format(team, version):
    response = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/card/", {"format": "pdf"})
    assert response.status_code == 400
    assert response.json() == {"format": ["Unknown format 'pdf'; expected one of md, html, json."]}


def test_revisions_are_addressable_and_validated(team, version):
    card_refresh(version=version, trigger="registration")
    client = team["pipeline"].client
    url = f"/api/v1/versions/{version.pk}/card/"
    assert client.get(url, {"revision": "1"}).json()["card"]["revision"] == 1
    missing = client.get(url, {"revision": "2"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "this version has no card revision 2"})
    bad = client.get(url, {"revision": "first"})
    assert (bad.status_code, bad.json()) == (400, {"revision": ["A revision is a positive integer."]})


def test_download_sends_an_attachment(team, version):
    response = team["pipeline"].client.get(f"/api/v1/versions/{version.pk}/card/", {"format": "json", "download": "1"})
    assert response["Content-Disposition"] == 'attachment; filename="adult-v3-card-r1.json"'
    assert json.loads(response.content)["context"]["identity"]["version"] == 3


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_cards_are_read_only(team, version, method):
    response = getattr(team["admin"].client, method)(f"/api/v1/versions/{version.pk}/card/", {})
    assert response.status_code == 405


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_a_revision_is_served_as_stored_whatever_the_templates_become(team, version, fmt, monkeypatch):
    client = team["reviewer"].client
    url = f"/api/v1/versions/{version.pk}/card/"
    first = client.get(url, {"format": fmt})
    stored = CardFile.objects.get(card__version=version, format=fmt)
    assert bytes(stored.content) == first.content
    assert hashlib.sha256(first.content).hexdigest() == stored.sha256
    assert (first["ETag"], first["X-Content-SHA256"]) == (f'"{stored.sha256}"', stored.sha256)
    # The templates and the generator name change: rendering again would give other bytes...
    monkeypatch.setattr("reports.cards.render.render_to_string", lambda *args, **kwargs: "a new template")
    monkeypatch.setattr("reports.cards.render.GENERATOR", "a new generator")
    assert render_files(Card.objects.get(version=version))[fmt] != first.content
    # ...but the revision is served as it was stored.
    again = client.get(url, {"format": fmt, "revision": "1"})
    assert (again.content, again["ETag"]) == (first.content, first["ETag"])


def test_a_revision_made_before_files_were_stored_gets_them_once_when_first_served(team, version):
    card = card_refresh(version=version).card
    CardFile.objects.filter(card=card).delete()  # as a revision made before the migration
    client = team["auditor"].client
    url = f"/api/v1/versions/{version.pk}/card/"
    markdown = client.get(url, {"format": "md"})
    assert markdown.status_code == 200
    files = {f.format: f for f in CardFile.objects.filter(card=card)}
    assert sorted(files) == ["html", "json", "md"]
    assert markdown.content == bytes(files["md"].content)
    event = AuditEvent.objects.get(action="card.files_stored")
    assert (event.actor_username, event.object_id) == ("r-auditor", str(card.pk))
    assert event.after == {
        "version": str(version.pk),
        "revision": 1,
        "content_hash": card.content_hash,
        "files": {fmt: f.sha256 for fmt, f in files.items()},
    }
    assert client.get(url, {"format": "html"}).content == bytes(files["html"].content)
    assert AuditEvent.objects.filter(action="card.files_stored").count() == 1
