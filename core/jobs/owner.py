"""Which process is responsible for a job, and whether that process is still there.

A job records its owner as "host:pid": the process that queued it, then the one running it. A process on
this host that no longer exists (a worker killed with SIGKILL, a dev server that was stopped) owns nothing:
its jobs are taken over at once. An owner on another host is judged by its heartbeat alone.

Pids are reused only after the kernel's pid counter wraps; a recycled pid makes the owner look alive, which
costs time (the heartbeat decides), never a second run.
"""

from __future__ import annotations

import os
import socket
import threading

_active: set[tuple[str, str]] = set()
_active_lock = threading.Lock()


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return True
    return True


def _local_pid(owner: str) -> int | None:
    """The pid of an owner on this host; None for another host (or an owner recorded before owners were)."""
    host, _, pid = owner.rpartition(":")
    if not host or host != socket.gethostname() or not pid.isdigit():
        return None
    return int(pid)


def process_gone(owner: str) -> bool:
    """True only when the owner is a process of this host that has exited."""
    pid = _local_pid(owner)
    return pid is not None and pid != os.getpid() and not _pid_exists(pid)


def not_working_on(owner: str, kind: str, job_id: str) -> bool:
    """True only when the owner is certainly not running the job: a process of this host that has exited, or
    this very process while it is not running the job (the attempt crashed and its task was retried here)."""
    if _local_pid(owner) == os.getpid():
        with _active_lock:
            return (kind, str(job_id)) not in _active
    return process_gone(owner)


class working_on:
    """Marks a job as being worked on by this process for the duration of the block."""

    def __init__(self, kind: str, job_id: str) -> None:
        self.key = (kind, str(job_id))

    def __enter__(self) -> None:
        with _active_lock:
            _active.add(self.key)

    def __exit__(self, *exc) -> None:
        with _active_lock:
            _active.discard(self.key)
