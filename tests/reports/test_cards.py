"""Dataset cards: content from the evidence, immutable hashed revisions, the hook, and safe rendering."""

import hashlib
import json
import logging

import pytest
import yaml

from core.audit import canonical_json, verify_chain
from core.context import Actor
from core.models import AuditEvent
from governance.policies import policy_check_run
from governance.revocations import source_dataset_revoke
from governance.workflow import version_decide
from registry.hooks import evidence_changed
from registry.models import Evaluation
from registry.services.catalog import source_dataset_update
from reports.cards.context import card_context
from reports.cards.render import front_matter, render_html, render_json, render_markdown
from reports.models import Card
from reports.services.cards import card_refresh
from reports.tasks import refresh_card_task
from tests.factories import DatasetVersionFactory, SourceDatasetFactory
from tests.governance.test_workflow import PASSING, make_version
from tests.support import make_member

pytestmark = pytest.mark.django_db


def _front_matter(markdown: str) -> dict:
    assert markdown.startswith("---\n")
    return yaml.safe_load(markdown.split("---\n", 2)[1])


@pytest.fixture
def bare(project, pipeline):
    """A version with a source, dataset details and no evaluation at all."""
    source = SourceDatasetFactory(project=project, namespace="pg", name="public.adult")
    return DatasetVersionFactory(
        dataset__project=project,
        dataset__name="adult",
        dataset__license="CC-BY-4.0",
        dataset__tags=["tabular", "synthetic"],
        dataset__intended_uses="Testing pipelines.",
        number=1,
        seed=7,
        code_version="git:abc",
        generator_parameters={"epochs": 10},
        row_count=12_345,
        registered_by=pipeline.user,
        sources=[source],
    )


def test_front_matter_parses_as_yaml_with_hugging_face_keys(bare):
    card = card_refresh(version=bare, trigger="registration").card
    meta = _front_matter(render_markdown(card))
    assert meta == {
        "pretty_name": "adult v1",
        "license": "cc-by-4.0",
        "tags": ["synthetic", "tabular"],
        "source_datasets": ["pg:public.adult"],
        "size_categories": ["10K<n<100K"],
        "annotations_creators": ["machine-generated"],
        "synthetic": {
            "generator": {"name": "sdv.GaussianCopulaSynthesizer", "version": bare.generator.version},
            "parameters": {"epochs": 10},
            "seed": 7,
            "code_version": "git:abc",
            "fingerprint": bare.fingerprint,
            "status": "registered",
            "project": "acme",
            "dataset": "adult",
            "version": 1,
            "version_id": str(bare.pk),
            "card_revision": 1,
            "card_sha256": card.content_hash,
        },
    }
    assert front_matter(card) == meta


def test_sections_without_evidence_say_so_plainly(bare):
    markdown = render_markdown(card_refresh(version=bare).card)
    for sentence in (
        "Out-of-scope uses.** Not stated by the dataset owner.",
        "No verified privacy evaluation yet.",
        "No verified quality evaluation yet.",
        "No verified fairness evaluation yet.",
        "No policy check yet.",
        "No decision yet.",
        "First version of this dataset: nothing to compare.",
        "- No verified evaluation: the registry has not checked this version's quality or privacy.",
        "- Source pg:public.adult does not declare whether it holds personal data.",
        "No distribution data stored for this evaluation.",
    ):
        assert sentence in markdown, sentence
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## 1. Identity and versioning",
        "## 2. Uses",
        "## 3. Structure",
        "## 4. Generation process",
        "## 5. Source data and lineage",
        "## 6. Privacy evaluation",
        "## 7. Quality evaluation",
        "## 8. Bias and representativeness",
        "## 9. Limitations and risks",
        "## 10. Governance status",
        "## 11. Changes since the previous version",
        "## 12. Card metadata",
    ]


def test_verified_and_reported_scores_are_shown_apart(project, pipeline):
    version = make_version(project, pipeline.user, metrics={"quality.overall": 0.91, "privacy.exact_copies": 0})
    Evaluation.objects.create(
        version=version,
        origin="reported",
        state="succeeded",
        tool="pipeline-sdmetrics 0.32",
        metrics={"quality.overall": 0.99},
        requested_by=pipeline.user,
    )
    card = card_refresh(version=version).card
    assert card.context["quality"]["verified"]["metrics"] == [
        {"key": "quality.overall", "label": "Quality (overall)", "hint": "higher is better, 0 to 1", "value": 0.91}
    ]
    reported = card.context["quality"]["reported"]
    assert [(r["tool"], r["metrics"][0]["value"]) for r in reported] == [("pipeline-sdmetrics 0.32", 0.99)]
    assert card.context["privacy"]["reported"] == []
    markdown = render_markdown(card)
    quality = markdown.split("## 7. Quality evaluation")[1].split("## 8.")[0]
    assert "| Quality (overall) `quality.overall` | 0.910 | higher is better, 0 to 1 |" in quality
    assert "**Reported by the pipeline — not verified by the registry** (pipeline-sdmetrics 0.32" in quality
    assert quality.index("0.910") < quality.index("not verified") < quality.index("0.990")
    html = render_html(card)
    assert html.count('<div class="reported">') == 1
    assert "<h3>Reported by the pipeline — not verified by the registry</h3>" in html


def test_the_privacy_section_names_text_columns_with_identifiers_inside(project, pipeline):
    version = make_version(project, pipeline.user, metrics={"pii.columns": 0, "pii.free_text_columns": 1})
    Evaluation.objects.filter(version=version).update(
        results={"pii": {"flagged_columns": [], "free_text_columns": ["notes"], "columns": []}}
    )
    card = card_refresh(version=version).card
    markdown = render_markdown(card)
    assert (
        "- Columns flagged as direct identifiers: none.\n- Text columns with identifiers inside their values: notes."
        in markdown
    )
    assert "| Text columns with identifiers inside their values `pii.free_text_columns` | 1 | 0 expected |" in markdown
    assert "<li>Text columns with identifiers inside their values: notes.</li>" in render_html(card)


def test_html_and_markdown_escape_user_text(project, pipeline):
    version = DatasetVersionFactory(
        dataset__project=project,
        dataset__name="xss",
        dataset__description='<script>alert("card")</script> & <b>bold</b>',
        dataset__prohibited_uses="<img src=x onerror=alert(1)>",
        registered_by=pipeline.user,
        schema=[{"name": "a|b`<i>", "dtype": "int64", "sdtype": "numerical"}],
    )
    card = card_refresh(version=version).card
    html = render_html(card)
    assert "<script>" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&quot;card&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    markdown = render_markdown(card)
    assert '&lt;script>alert("card")&lt;/script> & &lt;b>bold&lt;/b>' in markdown
    assert "**Prohibited uses.** &lt;img src=x onerror=alert(1)>" in markdown
    assert "| 1 | `a\\|b'<i>` | int64 | numerical |" in markdown


def test_refresh_with_unchanged_evidence_makes_no_new_revision(bare):
    first = card_refresh(version=bare, trigger="registration")
    events = AuditEvent.objects.count()
    again = card_refresh(version=bare, trigger="evaluation")
    assert (first.created, again.created) == (True, False)
    assert again.card.pk == first.card.pk
    assert Card.objects.filter(version=bare).count() == 1
    assert AuditEvent.objects.count() == events


def test_changed_evidence_makes_the_next_revision_hashed_and_audited(bare, pipeline):
    first = card_refresh(version=bare, trigger="registration").card
    Evaluation.objects.create(
        version=bare, origin="verified", state="succeeded", metrics=dict(PASSING), requested_by=pipeline.user
    )
    second = card_refresh(version=bare, trigger="evaluation").card
    assert [(c.revision, c.trigger) for c in Card.objects.filter(version=bare).order_by("revision")] == [
        (1, "registration"),
        (2, "evaluation"),
    ]
    stored = Card.objects.get(pk=second.pk)
    assert stored.content_hash == hashlib.sha256(canonical_json(stored.context).encode()).hexdigest()
    assert stored.content_hash != first.content_hash
    event = AuditEvent.objects.filter(action="card.rendered").order_by("-sequence").first()
    assert (event.object_type, event.object_id, event.project_slug) == ("reports.card", str(second.pk), "acme")
    assert event.after == {
        "version": str(bare.pk),
        "revision": 2,
        "content_hash": second.content_hash,
        "previous_hash": first.content_hash,
        "trigger": "evaluation",
        "files": {f.format: hashlib.sha256(bytes(f.content)).hexdigest() for f in second.files.all()},
    }
    assert sorted(event.after["files"]) == ["html", "json", "md"]
    assert verify_chain().ok


def test_hook_refreshes_the_card_after_commit_only(bare, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        evidence_changed.send(version_id=str(bare.pk), trigger="registration")
    assert (len(callbacks), Card.objects.count()) == (1, 0)
    callbacks[0]()
    assert list(Card.objects.values_list("version_id", "revision", "trigger")) == [(bare.pk, 1, "registration")]


def test_hook_also_refreshes_the_next_version_whose_changes_section_reads_this_one(project, pipeline):
    v1 = make_version(project, pipeline.user, number=1)
    v2 = make_version(project, pipeline.user, number=2, dataset=v1.dataset)
    card_refresh(version=v2)
    assert refresh_card_task.delay(str(v1.pk), "decision").get() == 1
    Evaluation.objects.filter(version=v1).update(metrics={**PASSING, "quality.overall": 0.5})
    refresh_card_task.delay(str(v1.pk), "evaluation")
    latest = Card.objects.filter(version=v2).order_by("-revision").first()
    assert (latest.revision, latest.trigger) == (2, "previous_version")
    assert latest.context["changes"]["metrics"][0] == {
        "key": "quality.overall",
        "label": "Quality (overall)",
        "before": 0.5,
        "after": 0.91,
        "delta": pytest.approx(0.41),
    }


def test_a_failing_refresh_is_logged_and_never_raised(bare, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr("reports.services.cards.card_context", explode)
    with caplog.at_level(logging.ERROR, logger="reports.tasks"):
        assert refresh_card_task.delay(str(bare.pk), "evaluation").get() is None
    assert Card.objects.count() == 0
    assert caplog.records[-1].getMessage() == f"card refresh of version {bare.pk} failed"


def test_limitations_and_governance_come_from_rules_waivers_and_comments(project, pipeline, reviewer):
    warned = {**PASSING, "privacy.dcr_overfitting_protection": 0.2}
    version = make_version(project, pipeline.user, metrics=warned)
    actor = Actor(user=reviewer.user, via="test")
    policy_check_run(actor=actor, version=version, trigger="evaluation")
    version_decide(actor=actor, version=version, action="approve", comment="fine", waiver="coarse columns")
    context = card_refresh(version=version).card.context
    assert [item["kind"] for item in context["limitations"]] == ["warning_rule", "waiver"]
    assert context["limitations"][1]["text"].endswith(": coarse columns")
    assert context["limitations"][0]["text"].startswith(
        "Policy warning: privacy.dcr_overfitting_protection = 0.2 (must be >= 0.3)."
    )
    decision = context["governance"]["decisions"][0]
    assert (decision["action"], decision["by"], decision["waiver"], decision["to_status"]) == (
        "approve",
        "rev",
        "coarse columns",
        "approved",
    )
    assert decision["waived_rules"] == ["privacy.dcr_overfitting_protection = 0.2 (must be >= 0.3)"]
    assert context["governance"]["policy_check"]["verdict"] == "warn"


def test_changes_since_the_previous_version(project, pipeline):
    v1 = make_version(project, pipeline.user, number=1, seed=1, generator_parameters={"epochs": 10})
    v2 = make_version(
        project,
        pipeline.user,
        number=2,
        dataset=v1.dataset,
        seed=2,
        generator=v1.generator,
        generator_parameters={"epochs": 20, "post": "x"},
        schema=[
            {"name": "age", "dtype": "float64", "sdtype": "numerical"},
            {"name": "b", "dtype": "int64", "sdtype": "numerical"},
        ],
        column_count=2,
    )
    changes = card_refresh(version=v2).card.context["changes"]
    assert changes["previous"]["version"] == 1
    assert changes["items"] == [
        {"field": "Columns", "before": 1, "after": 2},
        {"field": "Seed", "before": 1, "after": 2},
        {"field": "Parameter epochs", "before": 10, "after": 20},
        {"field": "Parameter post", "before": None, "after": "x"},
    ]
    assert changes["schema"] == {"added": ["b"], "removed": [], "changed": ["age: int64/numerical → float64/numerical"]}


def test_json_format_carries_metadata_front_matter_and_the_hashed_context(bare):
    card = card_refresh(version=bare).card
    body = json.loads(render_json(card))
    assert sorted(body) == ["card", "context", "front_matter"]
    assert body["card"]["revision"] == 1
    assert hashlib.sha256(canonical_json(body["context"]).encode()).hexdigest() == card.content_hash


def test_backfill_command_renders_missing_cards_once(bare, project, pipeline):
    from io import StringIO

    from django.core.management import call_command

    other = make_version(project, pipeline.user)
    out = StringIO()
    call_command("cards_refresh", "--project", "acme", stdout=out)
    call_command("cards_refresh", stdout=out)
    assert sorted(Card.objects.values_list("version_id", "revision", "trigger")) == sorted(
        [(bare.pk, 1, "backfill"), (other.pk, 1, "backfill")]
    )
    assert out.getvalue().splitlines()[-1] == "0 new card revisions"
    assert out.getvalue().count("2 new card revisions") == 1


def test_describing_a_source_refreshes_the_card_of_every_version_made_from_it(
    bare, project, pipeline, django_capture_on_commit_callbacks
):
    source = bare.source_links.get().source
    sibling = DatasetVersionFactory(dataset__project=project, registered_by=pipeline.user, sources=[source])
    unrelated = DatasetVersionFactory(dataset__project=project, registered_by=pipeline.user)
    for version in (bare, sibling, unrelated):
        card_refresh(version=version, trigger="registration")
    actor = Actor(user=pipeline.user, via="test")
    with django_capture_on_commit_callbacks(execute=True):
        source_dataset_update(
            actor=actor, source=source, contains_personal_data=True, legal_basis="consent", license="CC-BY-4.0"
        )
    latest = {v.pk: Card.objects.filter(version=v).order_by("-revision").first() for v in (bare, sibling, unrelated)}
    for version in (bare, sibling):
        card = latest[version.pk]
        assert (card.revision, card.trigger) == (2, "evidence_changed")
        described = card.context["sources"][0]
        assert (described["contains_personal_data"], described["legal_basis"], described["license"]) == (
            True,
            "consent",
            "CC-BY-4.0",
        )
    assert latest[unrelated.pk].revision == 1
    # An edit that changes nothing schedules nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        source_dataset_update(actor=actor, source=source, legal_basis="consent")
    assert callbacks == []


def test_revoking_a_source_refreshes_every_card_that_names_it(
    bare, project, pipeline, django_capture_on_commit_callbacks
):
    source = bare.source_links.get().source
    rejected = DatasetVersionFactory(
        dataset__project=project, registered_by=pipeline.user, sources=[source], status="rejected"
    )
    for version in (bare, rejected):
        card_refresh(version=version, trigger="registration")
    admin = make_member(project, "admin", "card-admin")
    with django_capture_on_commit_callbacks(execute=True):
        source_dataset_revoke(actor=Actor(user=admin.user, via="test"), source=source, reason="erasure #4")
    for version in (bare, rejected):  # the rejected version is not flagged, but its card still changes
        card = Card.objects.filter(version=version).order_by("-revision").first()
        assert (card.revision, card.context["sources"][0]["revocation_reason"]) == (2, "erasure #4")


def test_anonymity_section_gives_a_verdict_per_criterion_and_says_what_was_not_evaluated(project, pipeline, reviewer):
    without_holdout = {
        key: value
        for key, value in PASSING.items()
        if not key.startswith(("privacy.membership", "privacy.dcr_share", "privacy.near_copy", "privacy.nndr"))
        and key not in ("privacy.inference_advantage", "privacy.dcr_overfitting_protection")
    }
    version = make_version(project, pipeline.user, metrics={**without_holdout, "privacy.singling_out": 0.3})
    Evaluation.objects.filter(version=version).update(
        results={
            "privacy": {
                "keys_excluded": {"rownames": "a numbering of the rows (every integer from 1 to 344 once)"},
                "holdout_evidence": {"skipped": "no holdout table was given: linkability, membership and inference"},
            }
        }
    )
    policy_check_run(actor=Actor(user=reviewer.user, via="test"), version=version, trigger="evaluation")
    section = card_context(version)["anonymity"]
    verdicts = {c["criterion"]: (c["verdict"], [m["key"] for m in c["not_evaluated"]]) for c in section["criteria"]}
    assert verdicts == {
        "singling_out": ("at_risk", []),
        "linkability": (
            "not_evaluated",
            [
                "privacy.near_copy_excess",
                "privacy.dcr_share",
                "privacy.nndr_p10_ratio",
                "privacy.dcr_overfitting_protection",
            ],
        ),
        "inference": ("not_evaluated", ["privacy.inference_advantage"]),
        "membership": (
            "not_evaluated",
            ["privacy.membership_auc", "privacy.membership_tpr_at_fpr_1pct", "privacy.membership_max_group_auc"],
        ),
    }
    membership = next(c for c in section["criteria"] if c["criterion"] == "membership")
    assert membership["not_evaluated"][0]["reason"] == (
        "not evaluated: no holdout table was given: linkability, membership and inference"
    )
    markdown = render_markdown(card_refresh(version=version).card)
    assert (
        "- **Singling out** (Can a real person be isolated in the synthetic data?): **at risk: a blocking rule"
        in markdown
    )
    assert "  - Membership inference AUC: not evaluated, not evaluated: no holdout table was given" in markdown
    assert "Key columns left out of every comparison of rows: `rownames` (a numbering of the rows" in markdown


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        (
            "native",
            "registry-evaluation 2 (quality and diagnostic reports computed natively, equal to sdmetrics 0.32.0)",
        ),
        ("sdmetrics", "registry-evaluation 2 (quality and diagnostic reports computed by sdmetrics 0.32.0)"),
    ],
)
def test_the_card_says_what_computed_the_reports(project, pipeline, reports, expected):
    version = make_version(project, pipeline.user, metrics={"quality.overall": 0.91, "privacy.exact_copies": 0})
    Evaluation.objects.filter(version=version, origin="verified").update(
        engine={"name": "registry-evaluation", "version": "2", "reports": reports, "libraries": {"sdmetrics": "0.32.0"}}
    )
    card = card_refresh(version=version).card
    assert card.context["evaluations"]["verified"]["engine"] == expected
    assert expected in render_markdown(card)
