"""Job kinds: what each kind of job supplies to the framework, and the registry of kinds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from ..context import Actor
    from ..models import Job, Project
    from .runner import JobRun


class JobKind:
    """One kind of background job. Subclasses set `name` and `model` and implement `work` and `succeed`.

    The framework calls, for one attempt: `work` (outside any transaction, with heartbeats), then in one audited
    transaction either `succeed` + `after_success` or, on a refusal or crash, `after_failure`; then `cleanup`
    once the job has ended either way.
    """

    name: ClassVar[str]  # audit actions are "<name>.succeeded", "<name>.failed", "<name>.requeued"
    model: ClassVar[type[Job]]
    requested_action: ClassVar[str] = ""  # the audit action of enqueue; "<name>.requested" when empty
    related: ClassVar[tuple[str, ...]] = ()  # select_related for the rows the framework loads
    first_step: ClassVar[str] = "starting"

    def project(self, job: Job) -> Project:
        """The project the job's audit events belong to."""
        return job.project  # type: ignore[attr-defined]

    def work(self, run: JobRun) -> Any:
        """Do the work and return its outcome; raise DomainError to fail with that reason."""
        raise NotImplementedError

    def succeed(self, job: Job, outcome: Any, actor: Actor) -> dict[str, Any] | None:
        """Store the outcome on `job` (the framework saves it); return the `<name>.succeeded` event's details,
        or None when another event already records the result."""
        raise NotImplementedError

    def after_success(self, job: Job, outcome: Any, actor: Actor) -> None:
        """What follows a success, in the same transaction, after its audit event."""

    def after_failure(self, job: Job, error: dict[str, Any], actor: Actor) -> None:
        """What follows a failure, in the same transaction, after its audit event."""

    def cleanup(self, job: Job) -> None:
        """Once the job has ended (succeeded or failed), outside the transaction: drop temporary files."""


# name -> "module:Class", resolved (imported) on first use: registering a kind in AppConfig.ready() must not
# import its work, which may need the data stack (pandas) that django.setup() never loads.
_PATHS: dict[str, str] = {}
_RESOLVED: dict[str, JobKind] = {}


def register_kind(name: str, path: str) -> None:
    """Make a kind runnable by name (apps call this in AppConfig.ready(); registering twice is harmless)."""
    if _PATHS.get(name, path) != path:
        raise ValueError(f"job kind {name!r} is already registered as {_PATHS[name]}")
    _PATHS[name] = path


def kind_named(name: str | JobKind) -> JobKind:
    """The kind registered under this name (a kind passes through)."""
    if isinstance(name, JobKind):
        return name
    if name not in _RESOLVED:
        if name not in _PATHS:
            raise LookupError(f"no job kind {name!r} is registered (known: {', '.join(sorted(_PATHS))})")
        cls = import_string(_PATHS[name].replace(":", "."))
        if cls.name != name:
            raise ValueError(f"{_PATHS[name]} declares the name {cls.name!r}, registered as {name!r}")
        _RESOLVED[name] = cls()
    return _RESOLVED[name]


def registered_kinds() -> list[JobKind]:
    return [kind_named(name) for name in sorted(_PATHS)]
