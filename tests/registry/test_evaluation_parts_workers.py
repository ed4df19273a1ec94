"""Two real workers share an evaluation's distance parts (`make worker` processes, PostgreSQL and a broker).

The CI's second run has both; each test has a queue of its own (tests/workers.py).
"""

from __future__ import annotations

import gzip
import io

import pandas as pd
import pytest

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.models import DatasetVersion, Evaluation, EvaluationPart
from registry.tables.reading import read_table
from tests.factories import ProjectFactory
from tests.support import ADULT, make_member, registration_form, upload
from tests.workers import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# 20,000 rows a table: each search takes seconds on one core, much longer than a helper needs to read the
# tables, so the second worker gets parts to compute. 1,000 rows a part against the 20,000 reference rows.
ROWS = 20_000
PAIRS = 1_000 * ROWS


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def test_two_workers_compute_the_parts_of_one_evaluation_and_the_numbers_do_not_change(worker_space, tmp_path):
    adult = pd.read_csv(io.BytesIO(gzip.decompress(ADULT.read_bytes())))
    reference, synthetic = _csv(adult.iloc[:ROWS]), _csv(adult.iloc[ROWS : 2 * ROWS].reset_index(drop=True))
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    response = member.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(synthetic)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    version = DatasetVersion.objects.get(pk=response.json()["id"])
    workers = [worker_space.start_worker(f"worker-{i}", REGISTRY_EVALUATION_PART_PAIRS=str(PAIRS)) for i in (1, 2)]
    response = member.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/",
        {"reference": upload(reference, "real.csv"), "kinds": '["privacy"]', "seed": "2"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    evaluation_id = response.json()["id"]
    wait_until(
        lambda: Evaluation.objects.get(pk=evaluation_id).state in ("succeeded", "failed"),
        timeout=240,
        what="the evaluation to finish",
        details=lambda: "\n".join(worker.tail() for worker in workers),
    )
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert evaluation.state == "succeeded", evaluation.error
    split = evaluation.results["privacy"]["dcr"]["split"]
    # 12,561 synthetic (Adult has 32,561 rows) and as many random rows, 1,000 a part.
    assert (split["parts"], split["pairs_per_part"], sum(split["computed_by"].values())) == (26, PAIRS, 26)
    assert len(split["computed_by"]) >= 2, (split, [worker.tail() for worker in workers])
    assert split["helpers_asked"] == 8
    assert EvaluationPart.objects.filter(evaluation_id=evaluation_id).count() == 0

    (tmp_path / "real.csv").write_bytes(reference)
    (tmp_path / "synthetic.csv").write_bytes(synthetic)
    columns = [{"name": column["name"], "sdtype": None} for column in version.schema]
    local = run_evaluation(
        read_table(tmp_path / "real.csv", "csv"),
        read_table(tmp_path / "synthetic.csv", "csv"),
        columns=columns,
        config=EvaluationConfig(**{key: value for key, value in evaluation.config.items() if key != "sdtypes"}),
    )
    assert "split" not in local.results["privacy"]["dcr"]
    assert {key: value for key, value in evaluation.metrics.items() if not key.startswith("evidence.")} == local.metrics
