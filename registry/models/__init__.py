"""Registry models, one module per concern, re-exported here."""

from .catalog import Dataset, Generator, SourceDataset
from .jobs import RegistrationJob
from .versions import DatasetVersion, VersionSource, VersionStatus

__all__ = [
    "Dataset",
    "DatasetVersion",
    "Generator",
    "RegistrationJob",
    "SourceDataset",
    "VersionSource",
    "VersionStatus",
]
