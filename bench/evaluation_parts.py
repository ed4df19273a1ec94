"""Benchmark: one verified evaluation's DCR searches on one worker, and shared by two (issue 12, deliverable 5).

    .venv/bin/python bench/evaluation_parts.py [--sizes 20000,40000] [--part-pairs 200000000] [--output FILE]

Needs PostgreSQL and Redis (the machine's defaults: postgres://postgres@127.0.0.1:5432, redis://127.0.0.1:6379);
it creates and drops a scratch database ``registry_bench_parts``. For each size it registers a synthetic
version (bench/evaluation.py's Adult-shaped tables: Adult resampled with noise, 2% exact and 3% near copies)
and runs the same verified evaluation (kind privacy: exact and near copies, NewRowSynthesis, singling out, DCR
baseline protection) three times, each on fresh worker processes (``celery -A config worker --concurrency 1``,
one pool process each), as a user waits for it (the job's started_at to finished_at). Each worker is pinned
to a core of its own (``taskset``, one BLAS thread): two one-core workers stand for two machines, which this
2-core machine cannot otherwise show (one unpinned worker already uses both cores: BLAS threads, and the
engine runs the random baseline's search beside the rest).

- **1 worker, one piece**: ``REGISTRY_EVALUATION_PART_PAIRS=0``, the search in one piece as before;
- **1 worker, in parts**: the parts, all computed by the evaluation's own worker (the cost of cutting);
- **2 workers, in parts**: the parts shared with a second worker.

The table prints the time, the speed-up against one piece, who computed how many parts, each worker's peak RSS
(VmHWM of its pool process) and the largest |difference| of any metric against one piece (0: same numbers).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

DATABASE = "registry_bench_parts"
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/14")


def _environment(root: Path, queue: str) -> dict[str, str]:
    return {
        "DEBUG": "true",
        "DATABASE_URL": f"{SERVER}/{DATABASE}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
        "REGISTRY_STORAGE_ROOT": str(root / "storage"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",  # the in-process API client's host
    }


def _recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


class Worker:
    """``celery worker --concurrency 1`` pinned to one core (``taskset``, one BLAS thread), with its log."""

    def __init__(self, name: str, env: dict[str, str], root: Path, core: int) -> None:
        self.log = root / f"{name}.log"
        command = ["taskset", "-c", str(core), str(REPO / ".venv/bin/celery"), "-A", "config", "worker"]
        command += ["--concurrency", "1"]
        env = {**env, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        command += ["--loglevel", "INFO", "-n", f"{name}@%h"]
        self.popen = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=self.log.open("wb"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 90
        while " ready." not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline or self.popen.poll() is not None:
                raise RuntimeError(f"{name} did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def peak_rss_mb(self) -> float:
        """The pool process's VmHWM (the process that computed), in MB."""
        children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children").read_text().split()
        peaks = []
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=float("nan"))

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def _csv(frame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _evaluate(member, version_id: str, reference: bytes) -> dict:
    from django.db import close_old_connections

    from registry.models import Evaluation
    from tests.support import upload

    response = member.client.post(
        f"/api/v1/versions/{version_id}/evaluations/",
        {"reference": upload(reference, "real.csv"), "kinds": '["privacy"]', "seed": "0"},
        format="multipart",
    )
    if response.status_code != 202:
        raise RuntimeError(f"evaluation refused: {response.status_code} {response.content[:500]!r}")
    evaluation_id = response.json()["id"]
    deadline = time.monotonic() + 3600
    while True:
        close_old_connections()
        evaluation = Evaluation.objects.get(pk=evaluation_id)
        if evaluation.state in ("succeeded", "failed"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"evaluation {evaluation_id} did not finish within an hour")
        time.sleep(0.25)
    if evaluation.state != "succeeded":
        raise RuntimeError(f"evaluation failed: {evaluation.error}")
    return {
        "seconds": (evaluation.finished_at - evaluation.started_at).total_seconds(),
        "metrics": evaluation.metrics,
        "split": evaluation.results["privacy"]["dcr"].get("split"),
        "dcr_seconds": evaluation.durations.get("privacy"),
    }


def _difference(left: dict, right: dict) -> float:
    keys = set(left) | set(right)
    worst = 0.0
    for key in keys:
        a, b = left.get(key), right.get(key)
        if a is None or b is None:
            if a is not b:
                return float("inf")
            continue
        worst = max(worst, abs(float(a) - float(b)))
    return worst


SCENARIOS = (
    ("1 worker, one piece", 1, False),
    ("1 worker, in parts", 1, True),
    ("2 workers, in parts", 2, True),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,40000")
    parser.add_argument("--part-pairs", type=int, default=200_000_000)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    root = Path(tempfile.mkdtemp(prefix="bench-parts-"))
    (root / "storage").mkdir()
    queue = f"bench-parts-{uuid.uuid4().hex[:8]}"
    env = _environment(root, queue)
    os.environ.update(env)
    _recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from _machine import summary
    from evaluation import tables

    from registry.models import DatasetVersion
    from tests.factories import ProjectFactory
    from tests.support import make_member, registration_form, upload

    member = make_member(ProjectFactory(slug="bench"), "pipeline", "bench-pipeline")
    lines = [
        f"Machine: {summary()}",
        "",
        f"Part budget: {args.part_pairs:,} row pairs (REGISTRY_EVALUATION_PART_PAIRS). Kind: privacy. "
        "Each worker: one pool process (--concurrency 1) pinned to one core (taskset), one BLAS thread.",
        "",
        "| rows (reference = synthetic) | run | seconds | speed-up | parts | computed by | peak RSS MB per worker "
        "| max abs. metric diff |",
        "|---:|---|---:|---:|---:|---|---|---:|",
    ]
    try:
        for rows in sizes:
            real, synthetic = tables(rows)
            response = member.client.post(
                "/api/v1/versions/",
                {**registration_form(project="bench", dataset=f"adult-{rows}"), "file": upload(_csv(synthetic))},
                format="multipart",
            )
            if response.status_code != 201:
                raise RuntimeError(f"registration refused: {response.status_code} {response.content[:500]!r}")
            version = DatasetVersion.objects.get(pk=response.json()["id"])
            reference = _csv(real)
            baseline = None
            for label, count, split in SCENARIOS:
                pairs = str(args.part_pairs if split else 0)
                print(f"  {rows:,} rows: {label} ...", file=sys.stderr, flush=True)
                worker_env = {**env, "REGISTRY_EVALUATION_PART_PAIRS": pairs}
                workers = [Worker(f"w{i}-{rows}-{count}-{int(split)}", worker_env, root, core=i) for i in range(count)]
                try:
                    outcome = _evaluate(member, str(version.pk), reference)
                    peaks = [worker.peak_rss_mb() for worker in workers]
                finally:
                    for worker in workers:
                        worker.stop()
                baseline = baseline or outcome
                info = outcome["split"] or {}
                computed = ", ".join(f"{n}" for n in (info.get("computed_by") or {}).values()) or "—"
                speedup = baseline["seconds"] / outcome["seconds"]
                lines.append(
                    f"| {rows:,} | {label} | {outcome['seconds']:.2f} | {speedup:.2f}x "
                    f"| {info.get('parts', 1)} | {computed} | {', '.join(f'{peak:.0f}' for peak in peaks)} "
                    f"| {_difference(outcome['metrics'], baseline['metrics']):.1e} |"
                )
                print(f"    {outcome['seconds']:.2f} s", file=sys.stderr, flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        _drop_database()
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
