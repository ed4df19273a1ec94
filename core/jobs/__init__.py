"""The one job framework: registrations, evaluations and exports are kinds of job.

A kind supplies its work and its success step (`JobKind`); everything else is here, once:

- `enqueue` saves a new job as queued (inside the caller's audited transaction) and publishes it after commit:
  a transactional outbox, so a broker that is down never loses a job or fails a request;
- `run` (the Celery task `core.run_job`) claims the job, beats its heart while the kind works, and finishes or
  fails it; every claim is an attempt, and only the attempt holding the claim can finish (fencing);
- `reap` (run inside every worker, at start and every REGISTRY_JOB_REAP_SECONDS, and by `manage.py
  reap_stale_jobs`) hands queued jobs to the broker, takes back running jobs whose process is gone or whose
  heartbeat stopped, and ends with the reason those that can never run.
"""

from .kinds import JobKind, kind_named, register_kind, registered_kinds
from .outbox import enqueue, publish
from .reaper import reap
from .runner import JobRun, JobSuperseded, run
from .state import actor_for, fail, internal_error

__all__ = [
    "JobKind",
    "JobRun",
    "JobSuperseded",
    "actor_for",
    "enqueue",
    "fail",
    "internal_error",
    "kind_named",
    "publish",
    "reap",
    "register_kind",
    "registered_kinds",
    "run",
]
