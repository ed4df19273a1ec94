"""Read endpoints: scoping to the caller's projects, filters, ordering, pagination and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.models import VersionSource
from tests.factories import (
    DatasetFactory,
    DatasetVersionFactory,
    GeneratorFactory,
    SourceDatasetFactory,
)
from tests.support import make_member


@pytest.fixture
def catalog(project, other_project):
    """Three versions in acme (two datasets), one in another project."""
    source = SourceDatasetFactory(project=project, namespace="pg", name="public.adult")
    ctgan = GeneratorFactory(project=project, name="ctgan.CTGAN", version="0.7")
    copula = GeneratorFactory(project=project, name="sdv.GaussianCopulaSynthesizer", version="1.17")
    adult = DatasetFactory(project=project, name="adult", tags=["census", "tabular"])
    loans = DatasetFactory(project=project, name="loans")
    v1 = DatasetVersionFactory(dataset=adult, number=1, generator=ctgan, row_count=100, sources=[source])
    v2 = DatasetVersionFactory(dataset=adult, number=2, generator=copula, row_count=300, status="pending_review")
    v3 = DatasetVersionFactory(dataset=loans, number=1, generator=copula, row_count=200, status="approved")
    hidden = DatasetVersionFactory(dataset=DatasetFactory(project=other_project, name="secret"))
    return {"v1": v1, "v2": v2, "v3": v3, "hidden": hidden, "source": source}


def _ids(response):
    return [item["id"] for item in response.json()["results"]]


def test_versions_list_is_scoped_and_newest_first(pipeline, catalog):
    response = pipeline.client.get("/api/v1/versions/")
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert _ids(response) == [str(catalog[k].pk) for k in ("v3", "v2", "v1")]


def test_version_detail_of_another_project_is_404(pipeline, catalog):
    response = pipeline.client.get(f"/api/v1/versions/{catalog['hidden'].pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No DatasetVersion matches the given query."}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending_review", ["v2"]),
        ("status=pending_review&status=approved", ["v3", "v2"]),
        ("dataset=adult", ["v2", "v1"]),
        ("generator=ctgan.CTGAN", ["v1"]),
        ("project=acme&ordering=row_count", ["v1", "v3", "v2"]),
        ("ordering=-row_count", ["v2", "v3", "v1"]),
        ("source_namespace=pg&source_name=public.adult", ["v1"]),
        ("registered_by=nobody", []),
    ],
)
def test_version_filters_and_ordering(pipeline, catalog, query, expected):
    response = pipeline.client.get(f"/api/v1/versions/?{query}")
    assert response.status_code == 200
    assert _ids(response) == [str(catalog[k].pk) for k in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("source_namespace=pg&source_name=public.adult", ["v1"]),
        ("source_name=public.adult&source_namespace=pg", ["v1"]),
        ("source_namespace=pg", ["v2", "v1"]),
        ("source_name=public.adult", ["v2", "v1"]),
        ("source_namespace=s3&source_name=public.adult", ["v2"]),
        ("source_namespace=s3&source_name=other", []),
    ],
)
def test_source_filters_match_one_source_together(pipeline, project, catalog, query, expected):
    # v2 has a source in namespace pg and a source named public.adult, but not pg:public.adult.
    other = SourceDatasetFactory(project=project, namespace="pg", name="other")
    same_name = SourceDatasetFactory(project=project, namespace="s3", name="public.adult")
    VersionSource.objects.create(version=catalog["v2"], source=other)
    VersionSource.objects.create(version=catalog["v2"], source=same_name)
    # v1 matches through two sources: it is listed once.
    VersionSource.objects.create(version=catalog["v1"], source=SourceDatasetFactory(project=project, namespace="pg"))
    response = pipeline.client.get(f"/api/v1/versions/?{query}")
    assert response.status_code == 200
    assert _ids(response) == [str(catalog[k].pk) for k in expected]


def test_filter_with_an_invalid_choice_is_a_400_naming_the_field(pipeline, catalog):
    response = pipeline.client.get("/api/v1/versions/?status=published")
    assert response.status_code == 400
    assert response.json() == {"status": ["Select a valid choice. published is not one of the available choices."]}


def test_pagination(pipeline, catalog):
    page1 = pipeline.client.get("/api/v1/versions/?page_size=2").json()
    page2 = pipeline.client.get("/api/v1/versions/?page_size=2&page=2").json()
    assert (page1["count"], len(page1["results"]), len(page2["results"])) == (3, 2, 1)
    assert page1["next"] == "http://testserver/api/v1/versions/?page=2&page_size=2"
    assert page2["previous"] == "http://testserver/api/v1/versions/?page_size=2"


def test_datasets_with_version_counts_and_tag_filter(pipeline, catalog):
    body = pipeline.client.get("/api/v1/datasets/?ordering=name").json()
    assert [(d["name"], d["version_count"]) for d in body["results"]] == [("adult", 2), ("loans", 1)]
    tagged = pipeline.client.get("/api/v1/datasets/?tag=census").json()
    assert [d["name"] for d in tagged["results"]] == ["adult"]


def test_projects_show_the_callers_roles(project, other_project):
    member = make_member(project, "reviewer", "multi", bind_token=False)
    from tests.factories import MembershipFactory

    MembershipFactory(project=project, user=member.user, role="auditor")
    body = member.client.get("/api/v1/projects/").json()
    assert body["results"] == [
        {
            "slug": "acme",
            "name": "Acme",
            "description": "",
            "required_approvals": 1,
            "created_at": body["results"][0]["created_at"],
            "roles": ["auditor", "reviewer"],
        }
    ]


def test_project_bound_token_sees_only_its_project(project, other_project, catalog):
    member = make_member(project, "pipeline", "bound")
    from tests.factories import MembershipFactory

    MembershipFactory(project=other_project, user=member.user, role="pipeline")
    assert [p["slug"] for p in member.client.get("/api/v1/projects/").json()["results"]] == ["acme"]
    assert member.client.get(f"/api/v1/versions/{catalog['hidden'].pk}/").status_code == 404


def test_sources_and_generators_lists(pipeline, catalog):
    sources = pipeline.client.get("/api/v1/sources/").json()["results"]
    assert [(s["namespace"], s["name"], s["project"]) for s in sources] == [("pg", "public.adult", "acme")]
    generators = pipeline.client.get("/api/v1/generators/?ordering=name").json()["results"]
    assert [(g["name"], g["version"]) for g in generators] == [
        ("ctgan.CTGAN", "0.7"),
        ("sdv.GaussianCopulaSynthesizer", "1.17"),
    ]


@pytest.mark.parametrize("extra_versions", [0, 20])
def test_version_list_query_count_does_not_grow_with_rows(pipeline, catalog, extra_versions):
    dataset = catalog["v1"].dataset
    for n in range(extra_versions):
        DatasetVersionFactory(dataset=dataset, number=100 + n, generator=catalog["v1"].generator)
    with CaptureQueriesContext(connection) as queries:
        response = pipeline.client.get("/api/v1/versions/?page_size=100")
    assert response.status_code == 200
    assert response.json()["count"] == 3 + extra_versions
    # token lookup, token last-used, memberships, count, page
    assert len(queries) == 5, [q["sql"] for q in queries]


@pytest.mark.parametrize("extra_versions", [0, 20])
def test_version_detail_and_dataset_list_query_counts(pipeline, catalog, extra_versions):
    for n in range(extra_versions):
        DatasetVersionFactory(dataset=catalog["v1"].dataset, number=100 + n, generator=catalog["v1"].generator)
    pipeline.client.get("/api/v1/datasets/")  # refreshes the token's last-used time
    with CaptureQueriesContext(connection) as queries:
        assert pipeline.client.get(f"/api/v1/versions/{catalog['v1'].pk}/").status_code == 200
    # token lookup, memberships, version with joins, its sources
    assert len(queries) == 4, [q["sql"] for q in queries]
    with CaptureQueriesContext(connection) as queries:
        assert pipeline.client.get("/api/v1/datasets/").status_code == 200
    assert len(queries) == 4, [q["sql"] for q in queries]
