"""Audit exports as a service: contents in every format, manifests, scope, failures and the worker guards."""

import csv
import datetime as dt
import hashlib
import io
import json
import weakref
import zipfile

import pytest
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from config.celery import app as celery_app
from core import jobs
from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import Conflict
from core.jobs.task import run_job
from core.models import AuditEvent
from governance.models import Policy
from governance.policies import policy_check_run, policy_deactivate, policy_save
from governance.workflow import version_decide
from reports.exports.chain import EVENT_FIELDS, row_hash
from reports.exports.records import version_records
from reports.exports.scope import describe_period
from reports.models import Export
from reports.services.cards import card_refresh
from reports.services.exports import export_download, export_path
from tests.factories import UserFactory
from tests.governance.test_workflow import PASSING, make_version

pytestmark = pytest.mark.django_db

CORRELATION_CAPTION = "Red: the synthetic data is more correlated than the real data; blue: less; white: the same."
CSV_FILES = [
    "audit_events.csv",
    "versions.csv",
    "version_sources.csv",
    "evaluations.csv",
    "policy_checks.csv",
    "policy_outcomes.csv",
    "decisions.csv",
    "impact_flags.csv",
    "checklist.csv",
    "chain_verification.csv",
    "checklist_summary.csv",
]
# Every format's zip also holds the signed evidence (tests/reports/test_export_signing.py).
SIGNED_FILES = ["checkpoint.json", "audit_proof.json", "signing_keys.json"]


@pytest.fixture
def world(project, other_project, team):
    """Two versions of acme (one approved with a waiver), one of another project; audited through services."""
    reviewer = Actor(user=team["reviewer"].user, via="test")
    approved = make_version(
        project, team["pipeline"].user, metrics={**PASSING, "privacy.dcr_overfitting_protection": 0.2}
    )
    pending = make_version(project, team["pipeline"].user, dataset=approved.dataset, number=approved.number + 1)
    foreign = make_version(other_project, team["outsider"].user)
    for version in (approved, pending, foreign):
        policy_check_run(actor=reviewer, version=version, trigger="evaluation")
    version_decide(actor=reviewer, version=approved, action="approve", comment="ok", waiver="coarse columns")
    card_refresh(version=approved)
    return {"approved": approved, "pending": pending, "foreign": foreign}


@pytest.fixture
def run(team, django_capture_on_commit_callbacks):
    """Request an export as the acme auditor and let its task run (as it does after commit)."""
    from reports.services.exports import export_request

    def go(fmt: str, **kwargs) -> Export:
        with django_capture_on_commit_callbacks(execute=True):
            export = export_request(
                actor=Actor(user=team["auditor"].user, via="test"),
                project=team["auditor"].project,
                format=fmt,
                **kwargs,
            )
        return Export.objects.select_related("project").get(pk=export.pk)

    return go


def _zip(export: Export) -> zipfile.ZipFile:
    return zipfile.ZipFile(export_path(export.file_path))


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def _typed_event(row: dict) -> tuple:
    """An audit_events.csv row as the stored fields, as the manifest tells a verifier to read it: a text cell
    starting with ' had one added (formula neutralisation), so one is removed."""
    values = []
    for field in EVENT_FIELDS:
        value = row[field]
        if field in ("sequence", "actor_user_id", "project_id"):
            value = int(value) if value else None
        elif value.startswith("'"):
            value = value[1:]
        values.append(value)
    return tuple(values)


def test_csv_export_round_trips(world, run):
    export = run("csv")
    assert (export.state, export.progress, export.step, export.error) == ("succeeded", 100, "done", None)
    archive = _zip(export)
    assert sorted(archive.namelist()) == sorted([*CSV_FILES, *SIGNED_FILES, "manifest.json", "manifest.dsse.json"])
    versions = {row["version_id"]: row for row in _csv(archive, "versions.csv")}
    assert set(versions) == {str(world["approved"].pk), str(world["pending"].pk)}
    approved = versions[str(world["approved"].pk)]
    assert (approved["status"], approved["fingerprint"], approved["number"], approved["row_count"]) == (
        "approved",
        world["approved"].fingerprint,
        str(world["approved"].number),
        "10",
    )
    assert approved["card_revision"] == "1" and versions[str(world["pending"].pk)]["card_revision"] == ""
    evaluations = {row["version_id"]: row for row in _csv(archive, "evaluations.csv")}
    assert json.loads(evaluations[str(world["approved"].pk)]["metrics"]) == {
        **PASSING,
        "privacy.dcr_overfitting_protection": 0.2,
    }
    decisions = _csv(archive, "decisions.csv")
    assert [(d["version_id"], d["action"], d["decided_by"], d["waiver"]) for d in decisions] == [
        (str(world["approved"].pk), "approve", "r-reviewer", "coarse columns")
    ]
    assert json.loads(decisions[0]["waived_rules"]) == ["privacy.dcr_overfitting_protection = 0.2 (must be >= 0.3)"]
    events = _csv(archive, "audit_events.csv")
    expected = AuditEvent.objects.filter(
        project_id=world["approved"].dataset.project_id, sequence__lte=int(events[-1]["sequence"])
    )
    assert [int(e["sequence"]) for e in events] == list(expected.values_list("sequence", flat=True))
    assert events[-1]["action"] == "export.requested"
    for event in events:
        assert row_hash(_typed_event(event)) == event["hash"]
    chain = _csv(archive, "chain_verification.csv")
    assert (chain[0]["ok"], chain[0]["first_bad_sequence"], chain[0]["reason"]) == ("True", "", "")
    checklist = {(c["version_id"], c["item"]): c["status"] for c in _csv(archive, "checklist.csv")}
    assert len(checklist) == 32
    assert checklist[(str(world["approved"].pk), "MEASURE 1.3")] == "documented"
    assert checklist[(str(world["pending"].pk), "MANAGE 1.1")] == "missing"
    assert checklist[(str(world["approved"].pk), "Art. 10(2)(b)")] == "missing"  # no source declared


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_manifest_lists_the_sha256_of_every_file_and_is_in_the_audit_trail(world, run, fmt):
    export = run(fmt)
    archive = _zip(export)
    manifest_bytes = archive.read("manifest.json")
    manifest = json.loads(manifest_bytes)
    # Every file but the manifest and its signature envelope (which signs the manifest's bytes).
    unlisted = ("manifest.json", "manifest.dsse.json")
    assert sorted(f["name"] for f in manifest["files"]) == sorted(n for n in archive.namelist() if n not in unlisted)
    for entry in manifest["files"]:
        data = archive.read(entry["name"])
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["bytes"])
    assert (manifest["export_id"], manifest["format"], manifest["versions"]) == (str(export.pk), fmt, 2)
    head = manifest["chain_verification"]["head_sequence"]
    assert manifest["chain_verification"] == {
        "ok": True,
        "checked": head,
        "head_sequence": head,
        "head_hash": AuditEvent.objects.get(sequence=head).hash,
        "first_bad_sequence": None,
        "reason": "",
    }
    assert export.sha256 == hashlib.sha256(export_path(export.file_path).read_bytes()).hexdigest()
    event = AuditEvent.objects.get(action="export.succeeded", object_id=str(export.pk))
    assert event.after["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert event.after["sha256"] == export.sha256
    assert event.after["files"] == {f["name"]: f["sha256"] for f in manifest["files"]}


def test_json_export_is_one_document(world, run):
    document = json.loads(_zip(run("json")).read("export.json"))
    assert sorted(document) == ["audit_events", "chain_verification", "checklist_summary", "export", "versions"]
    assert [v["version_id"] for v in document["versions"]] == [str(world["approved"].pk), str(world["pending"].pk)]
    assert document["versions"][0]["decisions"][0]["waiver"] == "coarse columns"
    assert document["chain_verification"]["ok"] is True
    for event in document["audit_events"]:
        stored = AuditEvent.objects.get(sequence=event["sequence"])
        assert (event["after"], event["hash"]) == (stored.after_json, stored.hash)
        # An event re-verifies from the export alone: SHA-256(prev_hash + canonical JSON without "hash").
        canonical = json.dumps(
            {k: v for k, v in event.items() if k != "hash"}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert hashlib.sha256((event["prev_hash"] + canonical).encode()).hexdigest() == event["hash"]
    documented = {i["item"]: i["documented"] for i in document["checklist_summary"]}
    assert (documented["MEASURE 2.1"], documented["MANAGE 1.1"]) == (2, 1)


def test_pdf_opens_and_names_every_exported_version(world, run):
    export = run("pdf")
    reader = PdfReader(io.BytesIO(_zip(export).read("report.pdf")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Audit evidence report" in text
    for version in (world["approved"], world["pending"]):
        assert f"Version id {version.pk}" in text
    assert str(world["foreign"].pk) not in text
    assert reader.metadata.title == "Audit evidence report: acme"


def test_an_empty_period_still_makes_a_complete_pdf(world, run):
    export = run(
        "pdf", period_start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), period_end=dt.datetime(2020, 2, 1, tzinfo=dt.UTC)
    )
    manifest = json.loads(_zip(export).read("manifest.json"))
    assert (export.state, manifest["versions"], manifest["audit_events"]) == ("succeeded", 0, 0)
    text = PdfReader(io.BytesIO(_zip(export).read("report.pdf"))).pages[0].extract_text()
    assert "from 2020-01-01 through 2020-01-31" in text


def test_a_period_limits_versions_and_events(world, run):
    world["pending"].__class__.objects.filter(pk=world["pending"].pk).update(
        created_at=dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
    )
    january = run(
        "json", period_start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), period_end=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    )
    document = json.loads(_zip(january).read("export.json"))
    assert [v["version_id"] for v in document["versions"]] == [str(world["pending"].pk)]
    assert document["audit_events"] == []
    assert document["chain_verification"]["ok"] is True
    assert document["export"]["period_start"] == "2025-01-01T00:00:00+00:00"


def test_a_version_list_exports_those_versions_and_their_events_only(world, run):
    pending = world["pending"]
    document = json.loads(_zip(run("json", version_ids=[str(pending.pk)])).read("export.json"))
    assert [v["version_id"] for v in document["versions"]] == [str(pending.pk)]
    check = pending.policy_checks.get()
    assert [(e["action"], e["object_id"]) for e in document["audit_events"]] == [("policy.checked", str(check.pk))]


def test_a_broken_chain_is_reported_in_the_export(world, run):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE governance_auditevent SET action = 'rewritten' WHERE sequence = 2")
    manifest = json.loads(_zip(run("csv")).read("manifest.json"))
    assert manifest["chain_verification"]["ok"] is False
    assert manifest["chain_verification"]["reason"] == "event 2 was changed after it was written"


def test_a_failing_build_ends_failed_with_the_reason(world, run, monkeypatch):
    def full_disk(export, path, progress):
        path.write_bytes(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr("reports.services.exports.build_export", full_disk)
    export = run("csv")
    assert (export.state, export.step, export.progress) == ("failed", "failed", 0)
    assert export.error == {"detail": "internal error: OSError: No space left on device"}
    assert (export.file_path, export.sha256) == ("", "")
    assert list((export_path("exports")).iterdir()) == []
    event = AuditEvent.objects.get(action="export.failed")
    assert event.after == {"error": {"detail": "internal error: OSError: No space left on device"}}


def test_a_job_whose_worker_died_three_times_fails_for_good(world, team):
    export = Export.objects.create(
        project=world["approved"].dataset.project,
        format="csv",
        requested_by=team["auditor"].user,
        state="running",
        attempts=3,
    )
    jobs.run("export", str(export.pk))  # its owner (none recorded) looks dead: this delivery takes it over
    export.refresh_from_db()
    assert (export.state, export.attempts) == ("failed", 4)
    assert export.error == {"detail": "gave up after 3 attempts (its worker was lost or crashed each time)"}


def test_the_reaper_requeues_a_silent_running_export(world, team, monkeypatch):
    stale = timezone.now() - dt.timedelta(hours=1)
    export = Export.objects.create(
        project=world["approved"].dataset.project,
        format="json",
        requested_by=team["auditor"].user,
        state="running",
        attempts=1,
        started_at=stale,
        heartbeat_at=stale,
    )
    fresh = Export.objects.create(
        project=export.project,
        format="json",
        requested_by=export.requested_by,
        state="running",
        owner="worker-7:4242",
        heartbeat_at=timezone.now(),
    )
    celery_app.conf.task_always_eager = False  # with a broker: the reaper hands it over, a worker runs it
    monkeypatch.setattr(run_job, "apply_async", lambda args: run_job.apply(args=args))
    assert jobs.reap(kinds=["export"]) == {"export": 1}
    export.refresh_from_db()
    fresh.refresh_from_db()
    assert (export.state, export.attempts, fresh.state) == ("succeeded", 2, "running")
    assert export.file_path == f"exports/{export.pk}-2.zip"
    assert jobs.run("export", str(export.pk)) is None


def test_downloads_are_audited_and_need_a_finished_export(world, run, team):
    export = run("csv")
    auditor = Actor(user=team["auditor"].user, via="test")
    assert export_download(actor=auditor, export=export) == export_path(export.file_path)
    event = AuditEvent.objects.get(action="export.downloaded")
    assert (event.actor_username, event.object_id, event.after) == (
        "r-auditor",
        str(export.pk),
        {"sha256": export.sha256, "bytes": export.byte_count},
    )
    queued = Export.objects.create(project=export.project, format="csv", requested_by=team["auditor"].user)
    with pytest.raises(Conflict) as refused:
        export_download(actor=auditor, export=queued)
    assert refused.value.reason == "the export is queued; download it once it has succeeded"


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (None, None, "all time"),
        (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), None, "from 2026-01-01"),
        (None, dt.datetime(2026, 2, 1, tzinfo=dt.UTC), "through 2026-01-31"),
        (
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
            "from 2026-01-01 through 2026-01-01",
        ),
        (
            dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 1, 1, 17, tzinfo=dt.UTC),
            "from 2026-01-01T09:30:00+00:00 until 2026-01-01T17:00:00+00:00 (exclusive)",
        ),
    ],
)
def test_periods_are_described_with_inclusive_days(start, end, text):
    assert describe_period(start, end) == text


@pytest.mark.parametrize(
    ("fmt", "target"),
    [
        ("csv", "reports.exports.build.event_line"),
        ("json", "reports.exports.jsondoc.event_object"),
        ("pdf", "reports.exports.pdf.version_section"),
    ],
)
def test_an_error_while_a_file_is_open_in_the_zip_is_the_error_reported(world, run, monkeypatch, fmt, target):
    module, name = target.rsplit(".", 1)
    original = getattr(__import__(module, fromlist=[name]), name)
    calls = []

    def second_call_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, second_call_fails)
    export = run(fmt)
    assert (export.state, export.error) == ("failed", {"detail": "internal error: RuntimeError: disk on fire"})
    assert len(calls) == 2
    assert list(export_path("exports").iterdir()) == []
    assert AuditEvent.objects.get(action="export.failed").after == {"error": export.error}


def _pdf_squeezed(export: Export) -> str:
    """The report's text without whitespace or page footers (a long text continues across them)."""
    reader = PdfReader(io.BytesIO(_zip(export).read("report.pdf")))
    footer = "".join(f"Audit evidence report · {export.project.slug} · export {export.pk} page".split())
    return "".join(
        "".join(page.extract_text().split()).replace(f"{footer}{n}", "", 1) for n, page in enumerate(reader.pages, 1)
    )


def test_pdf_lays_out_comments_and_waivers_of_ten_thousand_characters(project, team, run):
    # Words wrap; a 10,000-character word must be split by the layout as well.
    comment = ("The DCR evidence was reviewed against the holdout; coarse columns explain it. " * 130)[:10_000]
    waiver = "w" * 9_999 + "!"
    version = make_version(
        project, team["pipeline"].user, metrics={**PASSING, "privacy.dcr_overfitting_protection": 0.2}
    )
    reviewer = Actor(user=team["reviewer"].user, via="test")
    policy_check_run(actor=reviewer, version=version, trigger="evaluation")
    version_decide(actor=reviewer, version=version, action="approve", comment=comment, waiver=waiver)
    export = run("pdf")
    assert (export.state, export.error) == ("succeeded", None)
    squeezed = _pdf_squeezed(export)
    # In the table: the start of each text and where to read the rest; below it: both texts in full.
    assert "".join(f"{comment[:200]}".split()) in squeezed
    assert "…[fulltextbelowthetable]" in squeezed
    assert "".join(comment.split()) in squeezed
    assert waiver in squeezed


def test_pdf_draws_the_correlation_difference_heatmap_of_the_card(project, team, run):
    version = make_version(project, team["pipeline"].user)
    correlations = {
        "columns": ["age", "hours"],
        "real": [[1.0, 0.4], [0.4, 1.0]],
        "synthetic": [[1.0, 0.1], [0.1, 1.0]],
    }
    version.evaluations.update(results={"summaries": {"correlations": correlations}})
    card = card_refresh(version=version).card
    assert card.context["plots"]["correlations"] == correlations
    export = run("pdf")
    squeezed = _pdf_squeezed(export)
    assert "".join(f"Correlation differences. {CORRELATION_CAPTION}".split()) in squeezed
    assert "Nodistributiondatastoredforthisevaluation." in squeezed
    assert "Nocorrelationdatastored" not in squeezed
    images = [name for page in PdfReader(io.BytesIO(_zip(export).read("report.pdf"))).pages for name in page.images]
    assert len(images) == 1


class _Record(dict):
    """A version record that can be watched with a weak reference."""


def test_pdf_streams_versions_and_gives_only_the_first_ones_a_section(project, team, run, monkeypatch):
    versions = [make_version(project, team["pipeline"].user, number=n) for n in range(1, 13)]
    monkeypatch.setattr("reports.exports.pdf.SECTION_LIMIT", 2)
    monkeypatch.setattr("reports.exports.pdf.ROWS_PER_TABLE", 5)
    original = version_records
    alive, most_alive = [0], []

    def watched(scope, **kwargs):
        for record in original(scope, **kwargs):
            record = _Record(record)
            alive[0] += 1
            weakref.finalize(record, lambda: alive.__setitem__(0, alive[0] - 1))
            most_alive.append(alive[0])
            yield record

    monkeypatch.setattr("reports.exports.build.version_records", watched)
    export = run("pdf")
    assert export.state == "succeeded"
    # Never more than the two records kept for their sections and the two in flight (the one being read,
    # and the previous one, still bound in the generators that pass records on).
    assert (len(most_alive), max(most_alive)) == (12, 4)
    squeezed = _pdf_squeezed(export)
    assert "Versionsectionsthefirst2of12versions(insummaryorder);thesummarytablelistseveryversion," in squeezed
    for version in versions:
        assert str(version.pk) in squeezed
    sections = [v for v in versions if f"Versionid{v.pk}" in squeezed]
    assert sections == versions[:2]
    assert json.loads(_zip(export).read("manifest.json"))["versions"] == 12


def test_events_of_the_global_policies_the_exported_checks_used_are_in_the_extract(project, other_project, team, run):
    root = Actor(user=UserFactory(username="root", is_superuser=True), via="test")
    rules = [{"metric": "quality.overall", "operator": ">=", "threshold": 0.5, "severity": "warn", "explanation": "x"}]
    used = policy_save(actor=root, project=None, name="Global floor", description="", rules=rules)
    retired = policy_save(actor=root, project=None, name="Retired", description="", rules=rules)
    policy_deactivate(actor=root, policy=retired)
    with audited_atomic():
        record_event(actor=root, action="user.credentials_changed", object_type="auth.user", object_id="1")
    reviewer = Actor(user=team["reviewer"].user, via="test")
    version = make_version(project, team["pipeline"].user)
    check = policy_check_run(actor=reviewer, version=version, trigger="evaluation")
    policy_save(actor=root, project=None, name="Global floor", description="stricter", rules=rules, policy=used)
    later = policy_save(actor=root, project=None, name="Later", description="", rules=rules)
    # Only the other project's version is checked against the later policy.
    policy_check_run(actor=reviewer, version=make_version(other_project, team["outsider"].user), trigger="evaluation")
    assert {p["name"] for p in check.policies} == {"Default release policy", "Global floor"}

    export = run("csv")
    archive = _zip(export)
    events = _csv(archive, "audit_events.csv")
    global_events = [(e["action"], e["object_id"]) for e in events if e["project_id"] == ""]
    # Both versions of the used policy, including the change after the check; not the retired or later one.
    assert global_events == [("policy.created", str(used.pk)), ("policy.updated", str(used.pk))]
    assert str(later.pk) not in {e["object_id"] for e in events if e["project_id"] == ""}
    for event in events:
        assert row_hash(_typed_event(event)) == event["hash"]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["chain_verification"]["ok"] is True
    default = Policy.objects.get(project=None, name="Default release policy")
    assert manifest["global_policies"] == sorted([str(default.pk), str(used.pk)], key=int)

    listed = json.loads(_zip(run("json", version_ids=[str(version.pk)])).read("export.json"))
    assert [(e["action"], e["project_id"]) for e in listed["audit_events"] if e["project_id"] is None] == [
        ("policy.created", None),
        ("policy.updated", None),
    ]
