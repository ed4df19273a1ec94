"""Load the demo: users with roles, a pipeline token, and two synthetic versions of UCI Adult.

Runs through the same services as the API; running it again changes nothing (same seeds, same bytes).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import copulas
from django.conf import settings
from django.core.management.base import BaseCommand

from common.digest import sha256_file
from core.context import Actor
from core.models import ApiToken, JobState
from core.roles import Role
from core.services import api_token_issue, membership_grant, project_ensure, user_ensure, user_set_password
from core.tokens import hash_token
from governance.review import review_state
from governance.workflow import version_decide
from registry.demo.data import DEMO_EVALUATION_CONFIG, GENERATOR_SEED, build_demo_tables
from registry.models import EvaluationOrigin, VersionStatus
from registry.services.catalog import source_dataset_update
from registry.services.evaluations import TableInput, evaluation_request
from registry.services.intake import RegistrationRequest, dataset_version_register_local_file
from registry.services.registration import GeneratorSpec, SourceSpec

PROJECT = "census-demo"
DATASET = "adult-income-synthetic"
USERS = [
    ("demo-pipeline", Role.PIPELINE),
    ("demo-reviewer", Role.REVIEWER),
    ("demo-auditor", Role.AUDITOR),
    ("demo-admin", Role.ADMIN),
]
DEMO_WAIVER = (
    "Warnings reviewed against the card: no copied or singled-out rows, membership and DCR share at chance "
    "against the holdout; remaining gaps are documented as limitations on the dataset card."
)
SOURCE = SourceSpec(namespace="uci-ml-repository", name="adult", version="adult.data (1996)")


class Command(BaseCommand):
    help = "Create the demo project, users and synthetic versions of UCI Adult (idempotent)."

    def handle(self, *args, **options):
        system = Actor.system("cli:demo")
        credentials = self._credentials()
        project = project_ensure(
            actor=system,
            slug=PROJECT,
            name="Census income (UCI Adult) synthetic data",
            description="Demo project: synthetic versions of the UCI Adult census table.",
        )
        users = {}
        for username, role in USERS:
            user = user_ensure(actor=system, username=username, is_staff=True)
            password = credentials["passwords"].setdefault(username, secrets.token_urlsafe(12))
            # The credentials file can outlive the database (e.g. after deleting var/registry.sqlite3).
            if not user.check_password(password):
                user_set_password(actor=system, user=user, password=password)
            membership_grant(actor=system, project=project, user=user, role=role)
            users[role] = user
        known = credentials.get("pipeline_token")
        if not known or not ApiToken.objects.filter(key_hash=hash_token(known), revoked_at__isnull=True).exists():
            _, credentials["pipeline_token"] = api_token_issue(
                actor=system, user=users[Role.PIPELINE], project=project, name="demo pipeline"
            )
        self._save(credentials)

        self.stdout.write("Training a Gaussian copula on UCI Adult (80% split) …")
        tables = build_demo_tables()
        out_dir = settings.VAR_DIR / "demo"
        out_dir.mkdir(parents=True, exist_ok=True)
        # The real split the generator learned from: its fingerprint is declared on the source, so the
        # evaluations can show that their reference is that very data.
        reference, holdout = out_dir / "adult-train.csv", out_dir / "adult-holdout.csv"
        tables.train.to_csv(reference, index=False)
        tables.holdout.to_csv(holdout, index=False)
        pipeline = Actor(user=users[Role.PIPELINE], via="cli:demo")
        results = []
        for label, frame, extra in (
            ("faithful", tables.faithful, {}),
            ("leaky", tables.leaky, {"post_processing": "oversample_training_rows"}),
        ):
            path = out_dir / f"adult-gaussian-copula-{label}.csv"
            frame.to_csv(path, index=False)
            request = RegistrationRequest(
                project=project,
                dataset_name=DATASET,
                dataset_defaults={
                    "description": "Synthetic census records generated from UCI Adult.",
                    "intended_uses": ("Teaching, pipeline testing and model prototyping without real census records."),
                    "prohibited_uses": "Decisions about real people; re-identification attempts.",
                    "owner": "demo-pipeline",
                    "license": "CC-BY-4.0",
                    "tags": ["synthetic", "tabular", "census"],
                },
                generator=GeneratorSpec(
                    name="registry.demo.GaussianCopulaSynthesizer",
                    version=f"1.0 (copulas {copulas.__version__})",
                    parameters={**tables.generator_parameters, **extra},
                    seed=GENERATOR_SEED,
                ),
                sources=[SOURCE],
                code_version="synthetic-registry demo 0.1.0",
            )
            outcome = dataset_version_register_local_file(actor=pipeline, request=request, path=path)
            results.append((label, outcome.result))
        source = results[0][1].version.sources.get()
        source_dataset_update(
            actor=pipeline,
            source=source,
            description="UCI Adult census income, training split (adult.data), Becker & Kohavi 1996, "
            "DOI 10.24432/C5XW20.",
            contains_personal_data=True,
            legal_basis="public research dataset (CC BY 4.0); de-identified census microdata",
            owner="UCI Machine Learning Repository",
            license="CC-BY-4.0",
            fingerprint=sha256_file(reference).sha256,
        )
        self._evaluate(pipeline, reference, holdout, [result.version for _, result in results])
        self._review(Actor(user=users[Role.REVIEWER], via="cli:demo"), results[0][1].version)
        self._report(results, credentials)

    def _review(self, reviewer: Actor, faithful) -> None:
        """The demo reviewer approves the faithful version (never the pipeline that registered it)."""
        faithful.refresh_from_db()
        if faithful.status != VersionStatus.PENDING_REVIEW:
            return
        state = review_state(version=faithful)
        if state.blocking:
            self.stdout.write(f"  {faithful} is blocked by policy; left for review")
            return
        version_decide(
            actor=reviewer,
            version=faithful,
            action="approve",
            comment="Evidence reviewed: no copied rows, fidelity 0.89, sensitive groups represented.",
            waiver=DEMO_WAIVER if state.warnings else "",
        )

    def _evaluate(self, pipeline: Actor, reference: Path, holdout: Path, versions) -> None:
        """Verified evidence for every demo version: real training split as reference, holdout aside."""
        for version in versions:
            done = version.evaluations.filter(origin=EvaluationOrigin.VERIFIED, state=JobState.SUCCEEDED).exists()
            if done:
                continue
            self.stdout.write(f"Evaluating {version} (quality, diagnostics, privacy, PII, fairness, utility) …")
            evaluation = evaluation_request(
                actor=pipeline,
                version=version,
                config=DEMO_EVALUATION_CONFIG,
                reference=TableInput(path=reference, owned=False),
                holdout=TableInput(path=holdout, owned=False),
            )
            evaluation.refresh_from_db()
            if evaluation.state != JobState.SUCCEEDED:
                self.stdout.write(f"  evaluation {evaluation.pk} is {evaluation.state} (a worker finishes it)")

    def _credentials_path(self) -> Path:
        return settings.VAR_DIR / "demo-credentials.json"

    def _credentials(self) -> dict:
        path = self._credentials_path()
        if path.exists():
            return json.loads(path.read_text())
        return {"passwords": {}}

    def _save(self, credentials: dict) -> None:
        path = self._credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)

    def _report(self, results, credentials) -> None:
        for label, result in results:
            state = "registered" if result.created else "already registered"
            version = result.version
            version.refresh_from_db()
            self.stdout.write(
                f"  {label:9s} {version} {state}: {version.row_count} rows, sha256 {version.fingerprint[:16]}…, "
                f"status {version.status}"
            )
            check = version.policy_checks.order_by("-created_at").first()
            if check is not None:
                failing = ", ".join(f"{o['metric']} ({o['severity']})" for o in check.failing())
                suffix = f": {failing}" if failing else ""
                self.stdout.write(f"            policy verdict {check.verdict.upper()}{suffix}")
            evaluation = version.evaluations.filter(state=JobState.SUCCEEDED).first()
            if evaluation is not None:
                metrics = evaluation.metrics
                self.stdout.write(
                    f"            quality {metrics.get('quality.overall', float('nan')):.3f}, "
                    f"exact copies {metrics.get('privacy.exact_copies')}, "
                    f"DCR baseline protection {metrics.get('privacy.dcr_baseline_protection', float('nan')):.3f}"
                )
        self.stdout.write("\nDemo logins for http://127.0.0.1:8000/admin/ (kept in var/demo-credentials.json):")
        for username, role in USERS:
            self.stdout.write(f"  {username:14s} {credentials['passwords'][username]:18s} ({role})")
        self.stdout.write(f"\nPipeline API token (demo-pipeline):\n  {credentials['pipeline_token']}\n")
