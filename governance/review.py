"""What a reviewer sees about one version: its policy verdict, decisions, flags and the actions open to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import JSONField, OuterRef, Subquery

from core.context import Actor
from core.models import JobState
from core.roles import Capability
from core.selectors import has_capability, project_ids_with
from registry.models import DatasetVersion, Evaluation, EvaluationOrigin

from .models import Decision, ImpactFlag, PolicyCheck
from .policy_engine import describe
from .workflow import ACTION_CAPABILITY, COMMENT_REQUIRED, allowed_actions


@dataclass
class ReviewState:
    """Everything the review panel and the dataset card need, read in a few queries."""

    version: DatasetVersion
    check: PolicyCheck | None
    decisions: list[Decision] = field(default_factory=list)
    flags: list[ImpactFlag] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    own_version: bool = False
    # Flags this version's revocation put on downstream versions the actor may read, and how many it may not.
    caused_flags: list[ImpactFlag] = field(default_factory=list)
    caused_hidden: int = 0

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [{**o, "text": describe(o)} for o in self.check.failing("block")] if self.check else []

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [{**o, "text": describe(o)} for o in self.check.failing("warn")] if self.check else []

    @property
    def can_approve(self) -> bool:
        return any(a["action"] == "approve" for a in self.actions)

    @property
    def open_flags(self) -> list[ImpactFlag]:
        return [f for f in self.flags if f.resolved_by_id is None]


def latest_policy_check(version: DatasetVersion) -> PolicyCheck | None:
    return PolicyCheck.objects.filter(version=version).order_by("-created_at").first()


def review_state(*, version: DatasetVersion, actor: Actor | None = None) -> ReviewState:
    """The version's review state; with an actor, also the decisions that actor may take now."""
    state = ReviewState(
        version=version,
        check=latest_policy_check(version),
        decisions=list(Decision.objects.filter(version=version).select_related("decided_by")),
        flags=list(ImpactFlag.objects.filter(version=version).select_related("cause_version", "cause_source")),
    )
    if actor is not None:
        project = version.dataset.project
        caused = ImpactFlag.objects.filter(cause_version=version)
        readable = project_ids_with(actor=actor, capability=Capability.READ)
        state.caused_flags = list(
            caused.filter(version__dataset__project__in=readable).select_related("version__dataset__project")
        )
        state.caused_hidden = caused.exclude(version__dataset__project__in=readable).count()
        state.own_version = actor.user_id == version.registered_by_id
        for action in allowed_actions(version.status):
            if has_capability(actor=actor, project=project, capability=ACTION_CAPABILITY[action]):
                state.actions.append(
                    {
                        "action": action,
                        "label": action.replace("_", " ").capitalize(),
                        "needs_comment": action in COMMENT_REQUIRED,
                        "blocked": action == "approve" and (state.own_version or bool(state.blocking)),
                    }
                )
    return state


def with_review_summary(queryset):
    """Annotate versions with their newest policy verdict and outcomes and newest verified metrics (one query)."""
    checks = PolicyCheck.objects.filter(version=OuterRef("pk")).order_by("-created_at")
    evaluations = Evaluation.objects.filter(
        version=OuterRef("pk"), origin=EvaluationOrigin.VERIFIED, state=JobState.SUCCEEDED
    ).order_by("-created_at")
    return queryset.annotate(
        latest_verdict=Subquery(checks.values("verdict")[:1]),
        latest_outcomes=Subquery(checks.values("outcomes")[:1], output_field=JSONField()),
        latest_metrics=Subquery(evaluations.values("metrics")[:1], output_field=JSONField()),
    )
