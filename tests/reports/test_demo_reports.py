"""The demo end to end: both versions' cards in three formats, and an auditor's exports from the admin."""

import hashlib
import io
import json
import zipfile
from io import StringIO

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from pypdf import PdfReader

from registry.models import DatasetVersion


def _login(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _card(client: Client, version, fmt: str) -> str:
    response = client.get(f"/admin/reports/card/version/{version.pk}/{fmt}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_demo_cards_and_audit_exports(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path / "var"
    call_command("demo", stdout=StringIO())
    faithful, leaky = DatasetVersion.objects.order_by("number")
    consumer = _login("demo-pipeline")

    markdown = _card(consumer, faithful, "md")
    meta = yaml.safe_load(markdown.split("---\n")[1])
    assert {k: meta[k] for k in ("pretty_name", "license", "tags", "source_datasets", "size_categories")} == {
        "pretty_name": "adult-income-synthetic v1",
        "license": "cc-by-4.0",
        "tags": ["synthetic", "tabular", "census"],
        "source_datasets": ["uci-ml-repository:adult"],
        "size_categories": ["10K<n<100K"],
    }
    assert meta["annotations_creators"] == ["machine-generated"]
    assert {k: meta["synthetic"][k] for k in ("seed", "status", "fingerprint", "version")} == {
        "seed": 42,
        "status": "approved",
        "fingerprint": faithful.fingerprint,
        "version": 1,
    }
    assert meta["synthetic"]["generator"]["name"] == "registry.demo.GaussianCopulaSynthesizer"
    assert meta["synthetic"]["parameters"]["seed"] == 42
    for line in (
        "| Exact copies of real rows `privacy.exact_copies` | 0 | 0 is the only safe value |",
        "| Quality (overall) `quality.overall` | 0.891 | higher is better, 0 to 1 |",
        # A gap of 0.105 on 2,489 rows is within sampling noise at that size: not flagged.
        "| Black | 2,513 | 2,489 | 9.6% | 9.5% | 0.891 | 0.105 | — |",
        "### Is this synthetic data anonymous?",
        "- **Singling out** (Can a real person be isolated in the synthetic data?): **not shown to be at risk at "
        "the policy's thresholds**.",
        "- **Membership** (Can an attacker tell who was in the training data?): **not shown to be at risk at the "
        "policy's thresholds**.",
        "No failing or warning rule, reviewer concern or open flag is recorded.",
        "First version of this dataset: nothing to compare.",
        "- `uci-ml-repository:adult` at version adult.data (1996): personal data yes, legal basis: public research "
        "dataset (CC BY 4.0); de-identified census microdata; owner UCI Machine Learning Repository; licence CC-BY-4.0",
    ):
        assert line in markdown, line
    check = faithful.policy_checks.latest()
    passing = sum(1 for o in check.outcomes if o["verdict"] == "pass")
    assert passing == len(check.outcomes)
    assert f"Policy verdict **PASS** ({passing} of {passing} rules pass; check of " in markdown
    assert "Status: **Approved**. Approvals required: 1 (1 in the current review round)." in markdown

    leaky_markdown = _card(consumer, leaky, "md")
    for line in (
        "Review status: **Pending review**.",
        "| Exact copies of real rows `privacy.exact_copies` | 10,483 | 0 is the only safe value |",
        # Blocked by independent criteria: copies, singling out, near copies, proximity and membership.
        "- Blocking: `privacy.exact_copy_rate = 0.4013 (must be <= 0.001)`",
        "- Blocking: `privacy.singling_out = 0.4012 (must be <= 0.01)`",
        "- Blocking: `privacy.near_copy_excess = 0.4496 (must be <= 0.05)`",
        "- Blocking: `privacy.dcr_share = 0.745 (must be <= 0.6)`",
        "- Blocking: `privacy.membership_auc = 0.7897 (must be <= 0.6)`",
        "- **Singling out** (Can a real person be isolated in the synthetic data?): **at risk: a blocking rule fails**.",
        "- **Membership** (Can an attacker tell who was in the training data?): **at risk: a blocking rule fails**.",
        "- Parameter post_processing: — → oversample_training_rows",
        "| Exact copies of real rows | 0 | 10,483 | +10,483 |",
        "No decision yet.",
    ):
        assert line in leaky_markdown, line
    assert f"Compared with version 1 (id `{faithful.pk}`" in leaky_markdown

    for version in (faithful, leaky):
        html = _card(consumer, version, "html")
        # The evaluation stores distribution summaries and the privacy attacks' evidence: the card draws them all.
        for plot in ("proximity", "membership", "distributions", "correlations", "fairness"):
            assert f'id="plot-{plot}"' in html, plot
        body = json.loads(_card(consumer, version, "json"))
        assert body["context"]["identity"]["version_id"] == str(version.pk)
        # The latest revision is served: the first download rendered it, or evidence changes did before.
        assert body["card"]["revision"] == version.cards.count() >= 1

    # The reviewer sees the leak where decisions are made: the privacy plots on the version's admin page.
    page = _login("demo-reviewer").get(f"/admin/registry/datasetversion/{leaky.pk}/change/").content.decode()
    assert 'class="module privacy-plots"' in page
    assert 'id="plot-proximity"' in page and 'id="plot-membership"' in page

    auditor = _login("demo-auditor")
    project = faithful.dataset.project
    for fmt in ("csv", "json", "pdf"):
        with django_capture_on_commit_callbacks(execute=True):
            response = auditor.post("/admin/reports/export/add/", {"project": project.pk, "format": fmt})
        assert response.status_code == 302
    exports = list(project.exports.order_by("created_at"))
    assert [(e.format, e.state) for e in exports] == [("csv", "succeeded"), ("json", "succeeded"), ("pdf", "succeeded")]
    for export in exports:
        download = auditor.get(f"/admin/reports/export/{export.pk}/download/")
        data = b"".join(download.streaming_content)
        assert hashlib.sha256(data).hexdigest() == export.sha256
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["chain_verification"]["ok"] is True
        assert manifest["versions"] == 2
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"], entry["name"]
    pdf = zipfile.ZipFile(
        io.BytesIO(b"".join(auditor.get(f"/admin/reports/export/{exports[2].pk}/download/").streaming_content))
    )
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read("report.pdf"))).pages)
    for version in (faithful, leaky):
        assert f"Version id {version.pk}" in text
    assert text.count("Distance to the closest training record") == 2
    assert text.count("Membership inference attack (ROC)") == 2
