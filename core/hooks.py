"""Hooks: how a lower layer tells upper layers that something happened, without importing them.

The layer that announces an event declares a `Hook` in its own ``hooks`` module and calls ``send`` where the
event happens; upper apps subscribe in ``AppConfig.ready()``. Receivers run synchronously, in subscription
order, inside the sender's transaction (so their writes commit or roll back with it), and their exceptions
propagate to the sender: a hook is domain logic, not a notification that may be lost. Work that should
happen after the commit is for the receiver to schedule (``transaction.on_commit``).

Unlike Django signals, hooks are explicit objects with one documented payload, listed in one place per
layer, and a hook that nobody subscribed to can be asked for (`Hook.receivers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Receiver = Callable[..., Any]


class Hook:
    """A named event with keyword arguments `arguments`; receivers are called as ``receiver(**payload)``."""

    def __init__(self, name: str, *, arguments: tuple[str, ...], doc: str) -> None:
        self.name = name
        self.arguments = arguments
        self.__doc__ = doc
        self._receivers: list[Receiver] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name} ({len(self._receivers)} receivers)>"

    @property
    def receivers(self) -> tuple[Receiver, ...]:
        return tuple(self._receivers)

    def connect(self, receiver: Receiver) -> Receiver:
        """Subscribe (idempotent: AppConfig.ready() may run more than once in tests); usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Receiver) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    def send(self, **payload: Any) -> None:
        """Call every receiver with the payload; it must carry exactly the hook's declared arguments."""
        if set(payload) != set(self.arguments):
            raise TypeError(f"hook {self.name} takes {sorted(self.arguments)}, got {sorted(payload)}")
        for receiver in tuple(self._receivers):
            receiver(**payload)


# --- The identity-and-trail layer's own hooks ------------------------------------------------------------------

worker_tick = Hook(
    "worker_tick",
    arguments=(),
    doc="Sent by every worker's maintenance thread after each reaper pass (every REGISTRY_JOB_REAP_SECONDS), "
    "outside any transaction: periodic work that needs no scheduler of its own subscribes here.",
)
