"""Which versions a period export covers: registered in the period, or with evidence dated in it."""

import datetime as dt

import pytest

from governance.models import Decision, ImpactFlag, PolicyCheck
from registry.models import DatasetVersion, Evaluation
from reports.exports.scope import ExportScope, scoped_versions
from tests.governance.test_workflow import make_version

pytestmark = pytest.mark.django_db

BEFORE = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
IN_PERIOD = dt.datetime(2025, 1, 15, tzinfo=dt.UTC)
AFTER = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
JANUARY = {"start": dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "end": dt.datetime(2025, 2, 1, tzinfo=dt.UTC)}


def _evidence(version, kind: str, when: dt.datetime, pipeline, reviewer) -> None:
    if kind == "decision":
        decision = Decision.objects.create(
            version=version,
            action="approve",
            decided_by=reviewer,
            from_status="pending_review",
            to_status="approved",
            review_round=1,
        )
        Decision.objects.filter(pk=decision.pk).update(created_at=when)
    elif kind == "policy_check":
        check = PolicyCheck.objects.create(version=version, trigger="evaluation", verdict="pass", policies=[])
        PolicyCheck.objects.filter(pk=check.pk).update(created_at=when)
    elif kind == "evaluation_requested":
        Evaluation.objects.filter(version=version).update(created_at=when, finished_at=None)
    elif kind == "evaluation_finished":
        Evaluation.objects.filter(version=version).update(finished_at=when)
    else:
        flag = ImpactFlag.objects.create(version=version, reason="source revoked", previous_status="approved")
        ImpactFlag.objects.filter(pk=flag.pk).update(created_at=when)


@pytest.mark.parametrize(
    "kind", ["decision", "policy_check", "evaluation_requested", "evaluation_finished", "impact_flag"]
)
def test_a_version_registered_before_the_period_is_in_it_when_its_evidence_is(
    project, pipeline, reviewer, kind, django_assert_num_queries
):
    active, quiet, new = (make_version(project, pipeline.user, dataset__name=name) for name in ("a", "b", "c"))
    Evaluation.objects.update(created_at=BEFORE, finished_at=BEFORE)
    DatasetVersion.objects.filter(pk__in=[active.pk, quiet.pk]).update(created_at=BEFORE)
    DatasetVersion.objects.filter(pk=new.pk).update(created_at=IN_PERIOD)
    _evidence(active, kind, IN_PERIOD, pipeline.user, reviewer.user)
    _evidence(quiet, kind, AFTER, pipeline.user, reviewer.user)  # after the period: does not count
    scope = ExportScope(project_id=project.pk, project_slug=project.slug, **JANUARY)
    with django_assert_num_queries(1):
        covered = list(scoped_versions(scope).values_list("pk", flat=True))
    assert covered == [active.pk, new.pk]
    open_ended = ExportScope(project_id=project.pk, project_slug=project.slug, start=AFTER)
    assert list(scoped_versions(open_ended).values_list("pk", flat=True)) == [quiet.pk]


def test_without_a_period_every_version_of_the_project_is_covered(project, other_project, pipeline):
    mine = [make_version(project, pipeline.user, dataset__name=name) for name in ("a", "b")]
    make_version(other_project, pipeline.user)
    scope = ExportScope(project_id=project.pk, project_slug=project.slug)
    assert list(scoped_versions(scope)) == mine
