"""Models of the identity-and-trail layer, one module per concern, re-exported here."""

from .accounts import ApiToken, Membership, Project, slug_validator
from .audit import AuditEvent, AuditHead
from .jobs import Job, JobState
from .signing import AuditCheckpoint, SigningKey

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "Job",
    "JobState",
    "Membership",
    "Project",
    "SigningKey",
    "slug_validator",
]
