"""How review and policy react to what the registry announces (subscribed in GovernanceConfig.ready()).

Receivers run inside the registry's transaction: the version's status and its policy check commit together
with the evaluation outcome that caused them.
"""

from __future__ import annotations

from core.context import Actor
from registry.models import Evaluation

from .policies import policy_check_run
from .workflow import version_system_transition


def evaluation_started(*, evaluation: Evaluation, actor: Actor) -> None:
    """A registered (or changes-requested) version is now being evaluated."""
    version_system_transition(
        actor=actor, version=evaluation.version, event="evaluation_started", detail={"evaluation": str(evaluation.pk)}
    )


def evaluation_finished(*, evaluation: Evaluation, actor: Actor, succeeded: bool) -> None:
    """Move the version on (to pending review, or back to registered) and check it against the policies."""
    event = "evaluation_succeeded" if succeeded else "evaluation_failed"
    version_system_transition(
        actor=actor, version=evaluation.version, event=event, detail={"evaluation": str(evaluation.pk)}
    )
    if succeeded:
        # A version never waits for review without its policy verdict.
        policy_check_run(actor=actor, version=evaluation.version, trigger="evaluation")
