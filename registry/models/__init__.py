"""Registry models, one module per concern, re-exported here."""

from .catalog import Dataset, Generator, SourceDataset
from .evaluations import Evaluation, EvaluationOrigin, EvaluationPart, PartState
from .jobs import RegistrationJob
from .lineage import (
    ColumnLineage,
    LineageAdjacency,
    LineageDatasetVersion,
    LineageEvent,
    LineageNode,
    LineageOutbox,
    LineageRun,
    LineageRunIO,
    NodeKind,
)
from .versions import DatasetVersion, VersionSource, VersionStatus

__all__ = [
    "ColumnLineage",
    "Dataset",
    "DatasetVersion",
    "Evaluation",
    "EvaluationOrigin",
    "EvaluationPart",
    "Generator",
    "LineageAdjacency",
    "LineageDatasetVersion",
    "LineageEvent",
    "LineageNode",
    "LineageOutbox",
    "LineageRun",
    "LineageRunIO",
    "NodeKind",
    "PartState",
    "RegistrationJob",
    "SourceDataset",
    "VersionSource",
    "VersionStatus",
]
