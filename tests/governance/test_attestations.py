"""Attestations: signed in the decision's transaction, verifiable without the registry's code."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from core.audit import verify_chain
from core.models import AuditEvent
from governance.attestations import PREDICATE_TYPE
from governance.models import Attestation
from tests.governance.test_workflow import PASSING, decide, make_version
from tests.support import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(project, other_project):
    members = {role: make_member(project, role, f"a-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}
    members["outsider"] = make_member(other_project, "reviewer", "a-outsider")
    return members


def _independent_verify(envelope: dict, public_key_pem: str) -> dict:
    """DSSE v1 verification written out here: PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP
    body; Ed25519 over those bytes; the key id is the hex SHA-256 of the key's DER SubjectPublicKeyInfo."""
    key = load_pem_public_key(public_key_pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    payload_type = envelope["payloadType"].encode()
    body = base64.b64decode(envelope["payload"])
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)
    [signature] = envelope["signatures"]
    assert (
        signature["keyid"]
        == hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    )
    key.verify(base64.b64decode(signature["sig"]), pae)  # raises InvalidSignature if it does not hold
    return json.loads(body)


def _public_key(member) -> str:
    [key] = member.client.get("/api/v1/signing-keys/").json()["results"]
    return key["public_key_pem"]


def test_an_approval_is_attested_and_the_statement_verifies_independently(project, team):
    version = make_version(project, team["pipeline"].user)
    url = f"/api/v1/versions/{version.pk}/attestation/"
    assert team["auditor"].client.get(url).status_code == 404  # nothing before approval
    assert decide(team["reviewer"], version, "approve").status_code == 201

    response = team["auditor"].client.get(url)
    assert response.status_code == 200
    assert (response["X-Attestation-Sequence"], response["X-Attestation-Status"]) == ("1", "approved")
    envelope = response.json()
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = _independent_verify(envelope, _public_key(team["auditor"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    version.refresh_from_db()
    [subject] = statement["subject"]
    assert subject["digest"] == {"sha256": version.fingerprint}
    assert subject["name"].startswith(f"acme/{version.dataset.name}/v{version.number}")
    predicate = statement["predicate"]
    assert predicate["version"]["status"] == "approved"
    assert predicate["evaluation"]["metrics"] == PASSING
    assert predicate["policy_check"]["verdict"] == "pass"
    assert [(d["action"], d["by"], d["to"]) for d in predicate["decisions"]] == [("approve", "a-reviewer", "approved")]
    assert predicate["provenance"]["generator"]["name"] == version.generator.name
    # The approval's audit event carries the statement's digest.
    event = AuditEvent.objects.get(action="version.approve")
    assert event.after["attestation"] == {
        "attestation": 1,
        "status": "approved",
        "payload_sha256": hashlib.sha256(base64.b64decode(envelope["payload"])).hexdigest(),
        "key_id": envelope["signatures"][0]["keyid"],
        "predicate_type": PREDICATE_TYPE,
    }
    assert verify_chain().ok


def test_deprecation_and_revocation_issue_new_statements_and_keep_the_old(project, team):
    version = make_version(project, team["pipeline"].user)
    decide(team["reviewer"], version, "approve")
    assert decide(team["admin"], version, "deprecate").status_code == 201
    assert decide(team["admin"], version, "revoke", comment="source withdrawn").status_code == 201
    assert list(Attestation.objects.filter(version=version).values_list("sequence", "status")) == [
        (3, "revoked"),
        (2, "deprecated"),
        (1, "approved"),
    ]
    key = _public_key(team["reviewer"])
    newest = _independent_verify(team["reviewer"].client.get(f"/api/v1/versions/{version.pk}/attestation/").json(), key)
    assert newest["predicate"]["issued"]["reason"] == "revoked"
    assert newest["predicate"]["decisions"][-1]["comment"] == "source withdrawn"
    first = team["reviewer"].client.get(f"/api/v1/versions/{version.pk}/attestation/?sequence=1")
    assert _independent_verify(first.json(), key)["predicate"]["version"]["status"] == "approved"
    assert team["reviewer"].client.get(f"/api/v1/versions/{version.pk}/attestation/?sequence=9").status_code == 404
    bad = team["reviewer"].client.get(f"/api/v1/versions/{version.pk}/attestation/?sequence=x")
    assert (bad.status_code, bad.json()) == (400, {"sequence": ["must be a whole number"]})


def test_a_refused_or_unattested_decision_signs_nothing(project, team):
    version = make_version(project, team["pipeline"].user)
    assert decide(team["reviewer"], version, "request_changes", comment="fix it").status_code == 201
    blocked = make_version(project, team["pipeline"].user, metrics={**PASSING, "privacy.exact_copy_rate": 0.4})
    assert decide(team["reviewer"], blocked, "approve").status_code == 409
    assert Attestation.objects.count() == 0


def test_a_flipped_byte_in_the_payload_fails_verification(project, team):
    version = make_version(project, team["pipeline"].user)
    decide(team["reviewer"], version, "approve")
    envelope = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/attestation/").json()
    body = bytearray(base64.b64decode(envelope["payload"]))
    body[len(body) // 2] ^= 0x01
    tampered = {**envelope, "payload": base64.b64encode(bytes(body)).decode()}
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        _independent_verify(tampered, _public_key(team["auditor"]))


@pytest.mark.parametrize(
    ("caller", "status"), [("pipeline", 200), ("reviewer", 200), ("auditor", 200), ("admin", 200), ("outsider", 404)]
)
def test_who_may_read_an_attestation(project, team, caller, status):
    version = make_version(project, team["pipeline"].user)
    decide(team["reviewer"], version, "approve")
    assert team[caller].client.get(f"/api/v1/versions/{version.pk}/attestation/").status_code == status


def test_anonymous_callers_get_401(project, team, anonymous):
    version = make_version(project, team["pipeline"].user)
    assert anonymous.get(f"/api/v1/versions/{version.pk}/attestation/").status_code == 401


def test_the_card_links_the_attestation(project, team, django_capture_on_commit_callbacks):
    version = make_version(project, team["pipeline"].user)
    card = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/card/?format=md").content.decode()
    assert "No signed attestation yet (one is signed when the version is approved)." in card
    with django_capture_on_commit_callbacks(execute=True):  # the card is refreshed after the decision commits
        decide(team["reviewer"], version, "approve")
    attestation = Attestation.objects.get(version=version)
    card = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/card/?format=md").content.decode()
    url = f"/api/v1/versions/{version.pk}/attestation/"
    assert f"Signed attestation: [`{url}`]({url}) (statement 1, approved," in card
    assert f"payload SHA-256 `{attestation.payload_sha256}`" in card
    html = team["auditor"].client.get(f"/api/v1/versions/{version.pk}/card/?format=html").content.decode()
    assert f'<a href="{url}"><code>{url}</code></a>' in html
