"""Benchmark: what signing adds to an approval (issue 14: at most 5 ms), and an audit checkpoint's cost.

    .venv/bin/python bench/signing.py [--database postgres://postgres@127.0.0.1:5432] [--rounds 200]

With ``--database`` it creates and drops a scratch PostgreSQL database ``registry_bench_signing``; without,
a temporary SQLite file. It builds one project with a version in review and a passing verified evaluation
(the shape every approval has), then times, each ``--rounds`` times:

- **approval, signed / not signed** (``version_decide`` approve, from pending review, in its audited
  transaction, with its policy check and what follows: the card's refresh runs in-process without a broker),
  each on a version of its own, interleaved; "not signed" switches the attestation off
  (``workflow.ATTESTED_STATUSES = ()``); the median paired difference is what signing adds;
- **attestation alone** (``attestation_issue`` as the approval calls it, in an audited transaction:
  predicate, in-toto statement, canonical JSON, Ed25519 signature, insert);
- **Ed25519 + DSSE alone** (``sign_envelope`` on the same payload).

Then one checkpoint of the trail (the Merkle root over every event and its signature) at the trail's size.
Prints the median and 95th percentile per step, and the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
DATABASE = "registry_bench_signing"


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL server URL without database name")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    folder = Path(tempfile.mkdtemp(prefix="bench-signing-"))
    if args.database:
        import psycopg

        with psycopg.connect(f"{args.database}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        os.environ["DATABASE_URL"] = f"{args.database}/{DATABASE}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from _machine import summary

    from common.evidence import PAYLOAD_TYPE, canonical_json, sign_envelope, statement
    from core import checkpoints
    from core.audit import audited_atomic
    from core.context import Actor
    from core.signing import active_key, signer
    from governance import workflow
    from governance.attestations import ATTESTED_STATUSES, PREDICATE_TYPE, attestation_issue, release_predicate
    from governance.models import Decision
    from governance.workflow import version_decide
    from registry.models import Evaluation
    from tests.factories import DatasetVersionFactory, MembershipFactory, ProjectFactory, UserFactory
    from tests.governance.test_workflow import PASSING

    project = ProjectFactory(slug="bench")
    registrant, reviewer = UserFactory(username="bench-pipeline"), UserFactory(username="bench-reviewer")
    MembershipFactory(project=project, user=registrant, role="pipeline")
    MembershipFactory(project=project, user=reviewer, role="reviewer")
    actor = Actor(user=reviewer, via="bench")
    active_key()
    steps = ("approval, signed", "approval, not signed", "attestation alone", "Ed25519 + DSSE alone")
    timings: dict[str, list[float]] = {step: [] for step in steps}

    def approve() -> float:
        # A version of its own each time, as every approval is: in review, with a passing verified evaluation.
        version = DatasetVersionFactory(dataset__project=project, status="pending_review", registered_by=registrant)
        Evaluation.objects.create(
            version=version, origin="verified", state="succeeded", metrics=dict(PASSING), requested_by=registrant
        )
        started = time.perf_counter()
        version_decide(actor=actor, version=version, action="approve")
        return time.perf_counter() - started

    for _ in range(args.rounds):
        # Interleaved, so that the machine's drift hits both alike.
        timings["approval, signed"].append(approve())
        workflow.ATTESTED_STATUSES = ()
        try:
            timings["approval, not signed"].append(approve())
        finally:
            workflow.ATTESTED_STATUSES = ATTESTED_STATUSES
        decision = Decision.objects.select_related("policy_check__evaluation", "version").latest("created_at")
        started = time.perf_counter()
        with audited_atomic():
            attestation_issue(
                actor=actor, version=decision.version, decision=decision, check=decision.policy_check, record=False
            )
        timings["attestation alone"].append(time.perf_counter() - started)
    body = statement(
        [("x.csv", decision.version.fingerprint)], PREDICATE_TYPE, release_predicate(decision.version, decision)
    )
    payload = canonical_json(body)
    for _ in range(args.rounds):
        started = time.perf_counter()
        sign_envelope(payload, PAYLOAD_TYPE, signer())
        timings["Ed25519 + DSSE alone"].append(time.perf_counter() - started)
    size = checkpoints.head_size()
    started = time.perf_counter()
    checkpoint = checkpoints.checkpoint_now()
    checkpoint_seconds = time.perf_counter() - started
    backend = "PostgreSQL" if args.database else "SQLite"
    print(f"Machine: {summary()}; database: {backend}; {args.rounds} rounds; payload {len(payload):,} bytes\n")
    print("| step | median ms | p95 ms |\n|---|---:|---:|")
    for step, samples in timings.items():
        median, p95 = _quantiles(samples)
        print(f"| {step} | {median * 1000:.2f} | {p95 * 1000:.2f} |")
    pairs = zip(timings["approval, signed"], timings["approval, not signed"], strict=True)
    added = statistics.median(signed - plain for signed, plain in pairs)
    print(f"\nSigning adds to an approval (median of the paired differences): {added * 1000:.2f} ms")
    print(f"\nCheckpoint of {size:,} events (tree size {checkpoint.tree_size:,}): {checkpoint_seconds * 1000:.1f} ms")
    if args.database:
        from django.db import connections

        connections.close_all()
        import psycopg

        with psycopg.connect(f"{args.database}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
