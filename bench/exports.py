"""Benchmark: streaming audit exports (CSV, JSON, PDF) of a project with 1M audit events and 10k versions.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/exports.py \
        [--events 1000000] [--versions 10000] [--formats csv,json,pdf] [--output FILE]

It builds a fresh database (PostgreSQL: a new database `registry_bench_exports` next to the one DATABASE_URL
names, dropped at the end; without DATABASE_URL: a temporary SQLite file), migrates it, and fills it in a
child process with bulk inserts: the versions with a verified evaluation, a policy check and (every other
one) an approval each, and the audit events with their hash chain computed in Python and written with
PostgreSQL's COPY (SQLite: executemany) — a fast path that bypasses `record_event` but produces a chain
`verify_chain` accepts, which the export then verifies. Each format is then exported by `core.jobs.run` in a
fresh child process, which reports its wall time and its own peak RSS
(`_machine.peak_rss_mb`, VmHWM: the interpreter, Django and the export together; the RSS
after Django has started is shown next to it). Each format runs twice: without the signing step (no
checkpoint, proofs or envelope; "unsigned s") and then as the registry runs it, timing the signing step inside
that run (signing a checkpoint with `core.checkpoints.checkpoint_now`, the proofs, the envelope); the offline
verifier (`common.evidence.export_check`) then checks the signed zip in another fresh process. The PDF is a
document for people: it lists every version in its summary table but gives only the first 200 a section of
their own, and lists the first 2,000 events (counting the rest per action). No assertion on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _machine import peak_rss_mb, summary  # bench/ is on sys.path when this file runs as a script

REPO = Path(__file__).resolve().parents[1]
BENCH_DB = "registry_bench_exports"
ACTIONS = ("version.registered", "evaluation.succeeded", "policy.checked", "card.rendered", "version.approve")


def _rss_mb() -> float:
    return peak_rss_mb()


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()


def _database_url(base: str | None, sqlite_path: Path) -> str:
    if base and base.startswith(("postgres://", "postgresql://")):
        return base.rsplit("/", 1)[0] + "/" + BENCH_DB
    return f"sqlite:///{sqlite_path}"


def _postgres_admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgres://", "postgresql://", 1), autocommit=True) as connection:
        connection.execute(sql)


def seed(versions: int, events: int) -> dict:
    """Fill the (migrated, empty) benchmark database; returns counts and seconds."""
    _django()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from core.audit import GENESIS_HASH, canonical_json
    from core.models import AuditHead, Membership, Project
    from governance.models import Decision, PolicyCheck
    from governance.policies import applicable_policies, policy_snapshot
    from governance.policy_engine import check
    from registry.models import Dataset, DatasetVersion, Evaluation, Generator
    from reports.exports.chain import iso, row_hash

    started = time.perf_counter()
    user_model = get_user_model()
    project = Project.objects.create(slug="bench", name="Export benchmark")
    pipeline, reviewer, auditor = (user_model.objects.create(username=name) for name in ("pipe", "rev", "aud"))
    Membership.objects.bulk_create(
        Membership(project=project, user=u, role=r)
        for u, r in ((pipeline, "pipeline"), (reviewer, "reviewer"), (auditor, "auditor"))
    )
    generator = Generator.objects.create(project=project, name="ctgan.CTGAN", version="0.10")
    datasets = Dataset.objects.bulk_create(Dataset(project=project, name=f"ds-{i:03d}") for i in range(100))
    now = dt.datetime.now(dt.UTC)
    metrics = {"quality.overall": 0.91, "privacy.exact_copies": 0, "privacy.dcr_baseline_protection": 0.6}
    snapshots = [policy_snapshot(p) for p in applicable_policies(project)]
    outcomes, verdict = check(snapshots, metrics)
    schema = [{"name": f"c{i}", "dtype": "int64", "sdtype": "numerical"} for i in range(12)]
    version_rows, evaluation_rows, check_rows, decision_rows = [], [], [], []
    for i in range(versions):
        version = DatasetVersion(
            dataset=datasets[i % len(datasets)],
            number=i // len(datasets) + 1,
            status="approved" if i % 2 == 0 else "pending_review",
            fingerprint=f"{i:064x}",
            fingerprint_source="computed",
            schema=schema,
            schema_hash="0" * 64,
            row_count=100_000,
            column_count=len(schema),
            generator=generator,
            generator_parameters={"epochs": 300, "batch_size": 500},
            seed=i,
            code_version="git:bench",
            registered_by=pipeline,
            created_at=now - dt.timedelta(seconds=versions - i),
        )
        version_rows.append(version)
        evaluation_rows.append(
            Evaluation(
                version=version,
                origin="verified",
                state="succeeded",
                metrics=metrics,
                requested_by=pipeline,
                engine={"name": "registry-evaluation", "version": "1", "libraries": {"sdmetrics": "0.32.0"}},
                parameters={"seed": 0},
                reference_fingerprint="f" * 64,
                reference_rows=100_000,
                progress=100,
            )
        )
        check_rows.append(
            PolicyCheck(version=version, trigger="evaluation", verdict=verdict, policies=snapshots, outcomes=outcomes)
        )
        if i % 2 == 0:
            decision_rows.append(
                Decision(
                    version=version,
                    action="approve",
                    decided_by=reviewer,
                    comment="ok",
                    from_status="pending_review",
                    to_status="approved",
                    review_round=1,
                )
            )
    with transaction.atomic():
        DatasetVersion.objects.bulk_create(version_rows, batch_size=2000)
        Evaluation.objects.bulk_create(evaluation_rows, batch_size=2000)
        for row, evaluation in zip(check_rows, evaluation_rows, strict=True):
            row.evaluation = evaluation
        PolicyCheck.objects.bulk_create(check_rows, batch_size=2000)
        Decision.objects.bulk_create(decision_rows, batch_size=2000)
    records_seconds = time.perf_counter() - started

    started = time.perf_counter()
    prev, start_time = GENESIS_HASH, now - dt.timedelta(days=30)
    ids = [str(v.pk) for v in version_rows]
    columns = (
        "sequence, occurred_at, actor_user_id, actor_username, actor_via, action, object_type, object_id, "
        "object_repr, project_id, project_slug, before_json, after_json, request_id, client_ip, prev_hash, hash"
    )

    def rows():
        nonlocal prev
        for n in range(1, events + 1):
            action = ACTIONS[n % len(ACTIONS)]
            after = canonical_json({"status": "approved", "n": n, "note": "benchmark event"})
            row = (
                n,
                iso(start_time + dt.timedelta(microseconds=2_000 * n)),
                pipeline.pk,
                "pipe",
                "token:bench",
                action,
                "registry.datasetversion",
                ids[n % len(ids)],
                f"bench/ds v{n % 100}",
                project.pk,
                "bench",
                '{"status":"pending_review"}',
                after,
                uuid.UUID(int=n).hex,
                "127.0.0.1",
                prev,
                "",
            )
            digest = row_hash(row)
            prev = digest
            yield (*row[:-1], digest)

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.connection.cursor().copy(f"COPY governance_auditevent ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            insert = f"INSERT INTO governance_auditevent ({columns}) VALUES ({', '.join(['%s'] * 17)})"  # noqa: S608
            batch = []
            for row in rows():
                batch.append((row[0], row[1][:26].replace("T", " "), *row[2:]))  # Django's SQLite format
                if len(batch) == 20_000:
                    cursor.executemany(insert, batch)
                    batch = []
            if batch:
                cursor.executemany(insert, batch)
        AuditHead.objects.update_or_create(pk=1, defaults={"sequence": events, "hash": prev})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"records_seconds": records_seconds, "events_seconds": time.perf_counter() - started}


class _Timer:
    """Wraps a module's function and adds up the seconds spent in it."""

    def __init__(self, module, name: str):
        self.seconds, self.function = 0.0, getattr(module, name)
        setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def export(fmt: str, unsigned: bool = False) -> dict:
    """Run one export in this (fresh) process; report time, throughput, peak RSS and the signing step's time.

    ``unsigned``: the same export with the signing step switched off (no checkpoint, proofs, keys or envelope),
    to measure what signing adds.
    """
    _django()
    from django.contrib.auth import get_user_model

    from core import jobs
    from core.models import Project
    from reports.exports import build, signing
    from reports.models import Export
    from reports.services.exports import export_path

    if unsigned:
        build.add_signed_evidence = lambda *args, **kwargs: {}
        build.manifest_envelope = None
    timers = {
        "signing_s": _Timer(build, "add_signed_evidence"),
        "envelope_s": _Timer(build, "manifest_envelope") if not unsigned else None,
        "checkpoint_s": _Timer(signing, "checkpoint_now"),
        "proofs_s": _Timer(signing, "audit_proof"),
    }
    baseline = _rss_mb()
    job = Export.objects.create(
        project=Project.objects.get(slug="bench"), format=fmt, requested_by=get_user_model().objects.get(username="aud")
    )
    started = time.perf_counter()
    job = jobs.run("export", str(job.pk))
    seconds = time.perf_counter() - started
    if job.state != "succeeded":
        raise SystemExit(f"export failed: {job.error}")
    manifest = job.manifest
    return {
        "seconds": seconds,
        "events": manifest["audit_events"],
        "versions": manifest["versions"],
        "chain_ok": manifest["chain_verification"]["ok"],
        "bytes": export_path(job.file_path).stat().st_size,
        "path": str(export_path(job.file_path)),
        "peak_rss_mb": _rss_mb(),
        "baseline_rss_mb": baseline,
        **{name: timer.seconds if timer else 0.0 for name, timer in timers.items()},
    }


def verify(path: str) -> dict:
    """Run the offline verifier on an export zip in this (fresh) process, with the key the zip names."""
    import zipfile

    sys.path.insert(0, str(REPO))
    from common.evidence.export_check import verify_export
    from common.evidence.keys import key_id, load_public_key

    with zipfile.ZipFile(path) as archive:
        keys = [load_public_key(pem) for pem in json.loads(archive.read("signing_keys.json")).values()]
    started = time.perf_counter()
    result = verify_export(path, {key_id(key): key for key in keys})
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "ok": result.ok, "lines": result.lines(), "peak_rss_mb": _rss_mb()}


def _child(args: list[str], env: dict) -> dict:
    output = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if output.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--formats", default="csv,json,pdf")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL benchmark database afterwards")
    parser.add_argument("--unsigned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job == "seed":
        print(json.dumps(seed(args.versions, args.events)))
        return
    if args.job == "verify":
        print(json.dumps(verify(args.output)))
        return
    if args.job:
        print(json.dumps(export(args.job, unsigned=args.unsigned)))
        return

    base = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        url = _database_url(base, Path(tmp) / "bench.sqlite3")
        postgres = url.startswith("postgres")
        if postgres:
            _postgres_admin(base, f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _postgres_admin(base, f"CREATE DATABASE {BENCH_DB}")
        env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true", "REGISTRY_STORAGE_ROOT": str(Path(tmp) / "storage")}
        try:
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
            seeded = _child(["--job", "seed", "--events", str(args.events), "--versions", str(args.versions)], env)
            lines = [
                f"Machine: {summary()}",
                f"Database: {'PostgreSQL' if postgres else 'SQLite'}; seeding {args.versions:,} versions took "
                f"{seeded['records_seconds']:.1f} s and {args.events:,} chained audit events "
                f"{seeded['events_seconds']:.1f} s",
                "",
                "| format | versions | audit events | seconds | events/s | zip MB | peak RSS MB (after setup) "
                "| chain | unsigned s (peak RSS MB) | signing step s (checkpoint_now / proofs) "
                "| signing % of the export | verify-export s (peak RSS MB) |",
                "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
            ]
            for fmt in args.formats.split(","):
                # Unsigned first: the signed run's checkpoint then covers it too, as in a real sequence of exports.
                unsigned = _child(["--job", fmt, "--unsigned"], env)
                result = _child(["--job", fmt], env)
                checked = _child(["--job", "verify", "--output", result["path"]], env)
                if not checked["ok"]:
                    raise SystemExit("verify-export failed:\n" + "\n".join(checked["lines"]))
                step = result["signing_s"] + result["envelope_s"]
                lines.append(
                    f"| {fmt} | {result['versions']:,} | {result['events']:,} | {result['seconds']:.1f} | "
                    f"{result['events'] / result['seconds']:,.0f} | {result['bytes'] / 1e6:.0f} | "
                    f"{result['peak_rss_mb']:.0f} ({result['baseline_rss_mb']:.0f}) | "
                    f"{'verified' if result['chain_ok'] else 'BROKEN'} | "
                    f"{unsigned['seconds']:.1f} ({unsigned['peak_rss_mb']:.0f}) | "
                    f"{step:.2f} ({result['checkpoint_s']:.2f} / {result['proofs_s']:.2f}) | "
                    f"{100 * step / (result['seconds'] - step):.1f} | "
                    f"{checked['seconds']:.1f} ({checked['peak_rss_mb']:.0f}) |"
                )
        finally:
            if postgres and not args.keep:
                _postgres_admin(base, f"DROP DATABASE IF EXISTS {BENCH_DB}")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
