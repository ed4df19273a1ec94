"""Every endpoint, every kind of caller: the exact status, and for lists exactly what is visible."""

import pytest

from registry.models import Evaluation, RegistrationJob
from tests.factories import DatasetVersionFactory, SourceDatasetFactory
from tests.support import make_member, registration_form, upload

CALLERS = ["anonymous", "pipeline", "reviewer", "auditor", "admin", "outsider"]


@pytest.fixture
def world(project, other_project, adult_head_csv):
    """One version (with source, generator, registration job) in acme; callers of every kind."""
    source = SourceDatasetFactory(project=project, namespace="pg", name="public.adult")
    version = DatasetVersionFactory(dataset__project=project, dataset__name="adult", sources=[source])
    job = RegistrationJob.objects.create(
        project=project,
        requested_by=version.registered_by,
        payload={"dataset": "adult"},
        file_path="/nonexistent",
    )
    evaluation = Evaluation.objects.create(
        version=version,
        origin="reported",
        state="succeeded",
        metrics={"quality.overall": 0.9},
        requested_by=version.registered_by,
    )
    members = {role: make_member(project, role, f"m-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}
    members["outsider"] = make_member(other_project, "pipeline", "m-outsider")
    return {
        "version": version,
        "source": source,
        "job": job,
        "evaluation": evaluation,
        "members": members,
        "csv": adult_head_csv,
    }


def _client(world, caller):
    from rest_framework.test import APIClient

    return APIClient() if caller == "anonymous" else world["members"][caller].client


READ_ENDPOINTS = [
    ("/api/v1/projects/", None),
    ("/api/v1/projects/acme/", None),
    ("/api/v1/datasets/", None),
    ("/api/v1/datasets/{dataset}/", None),
    ("/api/v1/versions/", None),
    ("/api/v1/versions/{version}/", None),
    ("/api/v1/versions/{version}/download/", "no-bytes"),
    ("/api/v1/sources/", None),
    ("/api/v1/sources/{source}/", None),
    ("/api/v1/generators/", None),
    ("/api/v1/generators/{generator}/", None),
    ("/api/v1/registrations/", None),
    ("/api/v1/registrations/{job}/", None),
    ("/api/v1/evaluations/", None),
    ("/api/v1/evaluations/{evaluation}/", None),
    ("/api/v1/versions/{version}/evaluations/", None),
]


def _url(template, world):
    version = world["version"]
    return template.format(
        version=version.pk,
        dataset=version.dataset_id,
        source=world["source"].pk,
        generator=version.generator_id,
        job=world["job"].pk,
        evaluation=world["evaluation"].pk,
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("template", "note"), READ_ENDPOINTS)
def test_read_endpoints(world, caller, template, note):
    response = _client(world, caller).get(_url(template, world))
    is_list = template.endswith("s/") and "{" not in template
    if caller == "anonymous":
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert response["WWW-Authenticate"] == "Bearer"
    elif caller == "outsider":
        if is_list:
            assert response.status_code == 200
            assert response.json()["count"] == (1 if template == "/api/v1/projects/" else 0)
        else:
            assert response.status_code == 404
    elif note == "no-bytes":
        # Members may download; this factory-made version has no bytes held by the registry.
        assert response.status_code == 404
        assert response.json() == {"detail": "the registry does not hold this version's bytes; see storage_uri"}
    else:
        assert response.status_code == 200
        if is_list:
            assert response.json()["count"] == 1, template


EXPECTED_REGISTER = {
    "anonymous": (401, {"detail": "Authentication credentials were not provided."}),
    "pipeline": (201, None),
    "reviewer": (
        403,
        {"detail": "registering versions in project 'acme' is not allowed: your roles there (reviewer)"},
    ),
    "auditor": (
        403,
        {"detail": "registering versions in project 'acme' is not allowed: your roles there (auditor)"},
    ),
    "admin": (
        403,
        {"detail": "registering versions in project 'acme' is not allowed: your roles there (admin)"},
    ),
    "outsider": (400, {"project": ["Unknown project 'acme', or you have no role in it."]}),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_register_endpoint(world, caller):
    response = _client(world, caller).post(
        "/api/v1/versions/", {**registration_form(), "file": upload(world["csv"])}, format="multipart"
    )
    status, body = EXPECTED_REGISTER[caller]
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_no_endpoint_accepts_updates_or_deletes(world, caller, method):
    response = getattr(_client(world, caller), method)(_url("/api/v1/versions/{version}/", world), {})
    assert response.status_code == (401 if caller == "anonymous" else 405)


@pytest.mark.parametrize("url", ["/healthz", "/api/schema/", "/api/docs/"])
def test_health_schema_and_docs_are_public(anonymous, url, db):
    assert anonymous.get(url).status_code == 200


EXPECTED_EVALUATE = {
    "anonymous": (401, {"detail": "Authentication credentials were not provided."}),
    "pipeline": (201, None),
    "reviewer": (403, {"detail": "evaluating versions in project 'acme' is not allowed: your roles there (reviewer)"}),
    "auditor": (403, {"detail": "evaluating versions in project 'acme' is not allowed: your roles there (auditor)"}),
    "admin": (403, {"detail": "evaluating versions in project 'acme' is not allowed: your roles there (admin)"}),
    "outsider": (404, {"detail": "No DatasetVersion matches the given query."}),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_evaluate_endpoint(world, caller):
    response = _client(world, caller).post(
        _url("/api/v1/versions/{version}/evaluations/", world),
        {"origin": "reported", "tool": "pipeline", "metrics": {"quality.overall": 0.8}},
        format="json",
    )
    status, body = EXPECTED_EVALUATE[caller]
    assert response.status_code == status
    if body is not None:
        assert response.json() == body


# --- governance and lineage endpoints -------------------------------------------------------------
def _pending_with_evidence(world):
    from tests.governance.test_workflow import PASSING

    version = world["version"]
    version.status = "pending_review"
    version.save()
    Evaluation.objects.create(
        version=version, origin="verified", state="succeeded", metrics=dict(PASSING), requested_by=version.registered_by
    )
    return version


def _lineage_event():
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-20T10:00:00Z",
        "run": {"runId": "3f1c2a2e-9a5e-4b8e-8d8f-0f6c9b4e2a11"},
        "job": {"namespace": "airflow", "name": "matrix"},
        "inputs": [{"namespace": "pg", "name": "matrix_in"}],
        "outputs": [],
        "producer": "https://example.com/test",
    }


RULE = {"metric": "quality.overall", "operator": ">=", "threshold": 0.9, "severity": "block", "explanation": "x"}
UNAUTHENTICATED = (401, {"detail": "Authentication credentials were not provided."})

# endpoint -> caller -> expected status
GOVERNANCE_MATRIX = {
    ("get", "/api/v1/versions/{version}/decisions/", None): {
        "pipeline": 200,
        "reviewer": 200,
        "auditor": 200,
        "admin": 200,
        "outsider": 404,
    },
    ("post", "/api/v1/versions/{version}/decisions/", "reject"): {
        "pipeline": 403,
        "reviewer": 201,
        "auditor": 403,
        "admin": 403,
        "outsider": 404,
    },
    ("get", "/api/v1/versions/{version}/policy-checks/", None): {
        "pipeline": 200,
        "reviewer": 200,
        "auditor": 200,
        "admin": 200,
        "outsider": 404,
    },
    ("post", "/api/v1/versions/{version}/policy-checks/", None): {
        "pipeline": 201,
        "reviewer": 201,
        "auditor": 403,
        "admin": 201,
        "outsider": 404,
    },
    ("get", "/api/v1/policies/", None): {
        "pipeline": 200,
        "reviewer": 200,
        "auditor": 200,
        "admin": 200,
        "outsider": 200,
    },
    ("post", "/api/v1/policies/", "policy"): {
        "pipeline": 403,
        "reviewer": 403,
        "auditor": 403,
        "admin": 201,
        "outsider": 400,
    },
    ("get", "/api/v1/audit-events/", None): {
        "pipeline": 403,
        "reviewer": 403,
        "auditor": 200,
        "admin": 200,
        "outsider": 403,
    },
    ("get", "/api/v1/audit/verify/", None): {
        "pipeline": 403,
        "reviewer": 403,
        "auditor": 200,
        "admin": 200,
        "outsider": 403,
    },
    ("get", "/api/v1/audit/checkpoints/", None): {
        "pipeline": 403,
        "reviewer": 403,
        "auditor": 200,
        "admin": 200,
        "outsider": 403,
    },
    ("get", "/api/v1/audit/consistency/?first=0", None): {
        "pipeline": 403,
        "reviewer": 403,
        "auditor": 200,
        "admin": 200,
        "outsider": 403,
    },
    ("get", "/api/v1/signing-keys/", None): {
        "pipeline": 200,
        "reviewer": 200,
        "auditor": 200,
        "admin": 200,
        "outsider": 200,
    },
    ("get", "/api/v1/versions/{version}/attestation/", None): {
        # Pending review: nothing is attested yet (test_attestation_endpoint reads one).
        "pipeline": 404,
        "reviewer": 404,
        "auditor": 404,
        "admin": 404,
        "outsider": 404,
    },
    ("post", "/api/v1/sources/{source}/revoke/", "revoke"): {
        "pipeline": 403,
        "reviewer": 200,
        "auditor": 403,
        "admin": 200,
        "outsider": 404,
    },
    ("patch", "/api/v1/projects/acme/", "project"): {
        "pipeline": 403,
        "reviewer": 403,
        "auditor": 403,
        "admin": 200,
        "outsider": 404,
    },
    ("post", "/api/v1/lineage", "lineage"): {
        "pipeline": 201,
        "reviewer": 403,
        "auditor": 403,
        "admin": 403,
        "outsider": 201,
    },
    ("post", "/api/v1/lineage/batch", "lineage_batch"): {
        "pipeline": 201,
        "reviewer": 403,
        "auditor": 403,
        "admin": 403,
        "outsider": 201,
    },
    ("get", "/api/v1/lineage?nodeId=dataset:pg:matrix_in", None): {
        "pipeline": 200,
        "reviewer": 200,
        "auditor": 200,
        "admin": 200,
        "outsider": 404,
    },
    ("get", "/api/v1/column-lineage?nodeId=datasetField:pg:matrix_in:a", None): {
        "pipeline": 200,
        "reviewer": 200,
        "auditor": 200,
        "admin": 200,
        "outsider": 404,
    },
}
BODIES = {
    "reject": {"action": "reject", "comment": "not fit for release"},
    "policy": {"project": "acme", "name": "Matrix", "rules": [RULE]},
    "revoke": {"reason": "erasure request"},
    "project": {"required_approvals": 2},
    "lineage": _lineage_event(),
    "lineage_batch": [_lineage_event()],
    None: None,
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "template", "body"), list(GOVERNANCE_MATRIX))
def test_governance_and_lineage_endpoints(world, caller, method, template, body):
    _pending_with_evidence(world)
    # The lineage graph has a dataset reported by acme's pipeline (not by the outsider's project).
    assert _client(world, "pipeline").post("/api/v1/lineage", _lineage_event(), format="json").status_code == 201
    client = _client(world, caller)
    url = _url(template, world)
    payload = BODIES[body]
    response = (
        getattr(client, method)(url, payload, format="json") if payload is not None else getattr(client, method)(url)
    )
    if caller == "anonymous":
        assert (response.status_code, response.json()) == UNAUTHENTICATED
    else:
        assert response.status_code == GOVERNANCE_MATRIX[(method, template, body)][caller], response.content


@pytest.mark.parametrize("caller", CALLERS)
def test_attestation_endpoint(world, caller):
    from core.context import Actor
    from governance.workflow import version_decide

    version = _pending_with_evidence(world)
    approver = world["members"]["reviewer"].user
    version_decide(actor=Actor(user=approver, via="test"), version=version, action="approve")
    response = _client(world, caller).get(_url("/api/v1/versions/{version}/attestation/", world))
    expected = {"anonymous": 401, "outsider": 404}.get(caller, 200)
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json()["payloadType"] == "application/vnd.in-toto+json"


# --- verified evaluations ---------------------------------------------------------------------------
EXPECTED_EVALUATE_VERIFIED = {
    **EXPECTED_EVALUATE,
    "pipeline": (202, None),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_verified_evaluate_endpoint(world, caller, settings):
    registered = _client(world, "pipeline").post(
        "/api/v1/versions/", {**registration_form(), "file": upload(world["csv"])}, format="multipart"
    )
    assert registered.status_code == 201
    version_id = registered.json()["id"]
    response = _client(world, caller).post(
        f"/api/v1/versions/{version_id}/evaluations/",
        {"origin": "verified", "kinds": '["quality"]', "reference": upload(world["csv"], "real.csv")},
        format="multipart",
    )
    status, body = EXPECTED_EVALUATE_VERIFIED[caller]
    assert response.status_code == status
    if body is not None:
        assert response.json() == body
    queued = Evaluation.objects.filter(version_id=version_id)
    assert [(e.origin, e.state) for e in queued] == ([("verified", "queued")] if status == 202 else [])
    # A refused request keeps none of the real data it was sent.
    staged = list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir())
    assert len(staged) == (1 if status == 202 else 0)


# --- policies, one by one -----------------------------------------------------------------------------
@pytest.fixture
def policies(world, project):
    from governance.models import Policy, PolicyRule

    acme = Policy.objects.create(project=project, name="Acme release", description="")
    PolicyRule.objects.create(policy=acme, position=0, **RULE)
    return {"acme": acme, "global": Policy.objects.get(project__isnull=True, name="Default release policy")}


POLICY_BODIES = {
    "put": {"project": "acme", "name": "Acme release", "description": "stricter", "rules": [RULE]},
    "patch": {"description": "stricter"},
    "get": None,
    "delete": None,
}
MANAGE_ACME = "managing policies in project 'acme' needs the admin role"
GLOBAL_BY_SUPERUSERS = "global policies are managed by superusers in the admin"
NOT_FOUND = {"detail": "No Policy matches the given query."}
# (method, which policy) -> caller -> (status, body or None)
POLICY_MATRIX = {
    ("get", "acme"): {
        "pipeline": (200, None),
        "reviewer": (200, None),
        "auditor": (200, None),
        "admin": (200, None),
        "outsider": (404, NOT_FOUND),
    },
    **{
        (method, "acme"): {
            "pipeline": (403, {"detail": MANAGE_ACME}),
            "reviewer": (403, {"detail": MANAGE_ACME}),
            "auditor": (403, {"detail": MANAGE_ACME}),
            "admin": ({"put": 200, "patch": 200, "delete": 204}[method], None),
            "outsider": (404, NOT_FOUND),
        }
        for method in ("put", "patch", "delete")
    },
    ("get", "global"): {caller: (200, None) for caller in CALLERS[1:]},
    **{
        (method, "global"): {caller: (403, {"detail": GLOBAL_BY_SUPERUSERS}) for caller in CALLERS[1:]}
        for method in ("put", "patch")
    },
    ("delete", "global"): {
        caller: (403, {"detail": "only superusers manage global policies"}) for caller in CALLERS[1:]
    },
}


def _policy_state(policy):
    from governance.models import Policy

    policy = Policy.objects.get(pk=policy.pk)
    return policy.version, policy.is_active, policy.description, list(policy.rules.values_list("metric", "threshold"))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "which"), list(POLICY_MATRIX))
def test_policy_detail_endpoint(world, policies, caller, method, which):
    from core.models import AuditEvent

    policy = policies[which]
    before, events = _policy_state(policy), AuditEvent.objects.count()
    client = _client(world, caller)
    payload = POLICY_BODIES[method]
    url = f"/api/v1/policies/{policy.pk}/"
    response = getattr(client, method)(url, payload, format="json") if payload else getattr(client, method)(url)
    if caller == "anonymous":
        assert (response.status_code, response.json()) == UNAUTHENTICATED
        assert _policy_state(policy) == before
        return
    status, body = POLICY_MATRIX[(method, which)][caller]
    assert response.status_code == status, response.content
    if body is not None:
        assert response.json() == body
    if status == 200 and method == "get":
        assert response.json()["id"] == policy.pk
    if method == "get" or status >= 400:
        assert _policy_state(policy) == before
        assert AuditEvent.objects.count() == events
    else:
        version, is_active, description, _ = _policy_state(policy)
        assert version == before[0] + 1
        assert (is_active, description) == ((False, "") if method == "delete" else (True, "stricter"))


# --- one audit event --------------------------------------------------------------------------------
READ_AUDIT_DENIED = {"detail": "the audit trail needs the auditor or admin role in a project"}
NO_EVENT = {"detail": "No AuditEvent matches the given query."}
AUDIT_EVENT_MATRIX = {
    # An event of acme, and one of the outsider's project.
    "acme": {
        "pipeline": (403, READ_AUDIT_DENIED),
        "reviewer": (403, READ_AUDIT_DENIED),
        "auditor": (200, None),
        "admin": (200, None),
        "outsider": (403, READ_AUDIT_DENIED),
    },
    "other": {
        "pipeline": (403, READ_AUDIT_DENIED),
        "reviewer": (403, READ_AUDIT_DENIED),
        "auditor": (404, NO_EVENT),
        "admin": (404, NO_EVENT),
        "outsider": (403, READ_AUDIT_DENIED),
    },
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("which", list(AUDIT_EVENT_MATRIX))
def test_audit_event_detail_endpoint(world, project, other_project, caller, which):
    from core.models import AuditEvent

    owner = project if which == "acme" else other_project
    event = AuditEvent.objects.filter(project_id=owner.pk).order_by("sequence").first()
    response = _client(world, caller).get(f"/api/v1/audit-events/{event.sequence}/")
    if caller == "anonymous":
        assert (response.status_code, response.json()) == UNAUTHENTICATED
        return
    status, body = AUDIT_EVENT_MATRIX[which][caller]
    assert response.status_code == status
    if body is not None:
        assert response.json() == body
    else:
        assert (response.json()["sequence"], response.json()["action"]) == (event.sequence, event.action)


# --- methods an endpoint does not have ----------------------------------------------------------------
WITHOUT_PUT_OR_DELETE = [
    "/api/v1/projects/",
    "/api/v1/projects/acme/",
    "/api/v1/datasets/",
    "/api/v1/datasets/{dataset}/",
    "/api/v1/versions/",
    "/api/v1/versions/{version}/evaluations/",
    "/api/v1/versions/{version}/decisions/",
    "/api/v1/versions/{version}/policy-checks/",
    "/api/v1/versions/{version}/download/",
    "/api/v1/sources/",
    "/api/v1/sources/{source}/",
    "/api/v1/sources/{source}/revoke/",
    "/api/v1/generators/",
    "/api/v1/generators/{generator}/",
    "/api/v1/registrations/",
    "/api/v1/registrations/{job}/",
    "/api/v1/evaluations/",
    "/api/v1/evaluations/{evaluation}/",
    "/api/v1/policies/",
    "/api/v1/audit-events/",
    "/api/v1/audit-events/1/",
    "/api/v1/audit/verify/",
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("template", WITHOUT_PUT_OR_DELETE)
def test_endpoints_refuse_methods_they_do_not_have(world, caller, method, template):
    response = getattr(_client(world, caller), method)(_url(template, world), {}, format="json")
    if caller == "anonymous":
        assert (response.status_code, response.json()) == UNAUTHENTICATED
    else:
        assert response.status_code == 405, response.content
        assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
