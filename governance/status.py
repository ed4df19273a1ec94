"""Writing a version's status and its dataset's current version: shared by decisions and impact flags.

Only the workflow and the impact flagging call these, inside their own transaction and audit event.
"""

from __future__ import annotations

from registry.models import Dataset, DatasetVersion, VersionStatus

# Statuses entering a (new) review round: approvals are counted per round.
REVIEW_ENTRY = {VersionStatus.PENDING_REVIEW, VersionStatus.NEEDS_REREVIEW}


def version_status_set(version: DatasetVersion, status: str) -> None:
    """Save a new status; entering review starts a new round, so earlier approvals no longer count."""
    if status in REVIEW_ENTRY and version.status != status:
        version.review_round += 1
    version.status = status
    version.save(update_fields=["status", "review_round", "updated_at"])


def dataset_current_version_update(dataset: Dataset) -> None:
    """Consumers use the newest approved version; after a rollback that is the previous approved one."""
    newest = dataset.versions.filter(status=VersionStatus.APPROVED).order_by("-number").first()
    if dataset.current_version_id != (newest.pk if newest else None):
        dataset.current_version = newest
        dataset.save(update_fields=["current_version"])
