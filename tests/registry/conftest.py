"""Fixtures shared by the registry's API tests."""

import pytest

from core.models import AuditEvent
from registry.models import Dataset, DatasetVersion, Generator, RegistrationJob, SourceDataset


@pytest.fixture
def nothing_written(settings, pipeline):
    """Yield, then assert the request left no registry rows, no audit events and no staged files."""
    events = AuditEvent.objects.count()
    yield
    assert AuditEvent.objects.count() == events
    for model in (Dataset, DatasetVersion, Generator, SourceDataset, RegistrationJob):
        assert model.objects.count() == 0, model.__name__
    staging = settings.REGISTRY_STORAGE_ROOT / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []
    objects = settings.REGISTRY_STORAGE_ROOT / "objects"
    assert not objects.exists() or list(objects.rglob("*.*")) == []
