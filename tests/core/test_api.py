"""The API as a whole: one root listing every resource, and a lost database answered as an outage."""

import pytest
from django.db import OperationalError

from core import selectors

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_every_resource_of_every_app(pipeline):
    response = pipeline.client.get("/api/v1/")
    assert response.status_code == 200
    assert sorted(response.json()) == [
        "audit-events",
        "audit/checkpoints",
        "audit/consistency",
        "audit/verify",
        "column-lineage",
        "datasets",
        "evaluations",
        "exports",
        "generators",
        "lineage",
        "lineage/batch",
        "policies",
        "projects",
        "registrations",
        "signing-keys",
        "sources",
        "versions",
    ]
    assert response.json()["lineage"] == "http://testserver/api/v1/lineage"
    assert response.json()["projects"] == "http://testserver/api/v1/projects/"


def test_a_lost_database_is_a_503_with_retry_after_not_a_500(pipeline, monkeypatch):
    def gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "actor_roles", gone)
    monkeypatch.setattr("core.api.views.actor_roles", gone)
    for url in ("/api/v1/datasets/", "/api/v1/projects/"):
        response = pipeline.client.get(url)
        assert (response.status_code, response["Retry-After"]) == (503, "5")
        assert response.json() == {"detail": "the database is unavailable; retry later"}
