"""Models of the identity-and-trail layer, one module per concern, re-exported here."""

from .accounts import ApiToken, Membership, Project, slug_validator
from .audit import AuditEvent, AuditHead
from .jobs import Job, JobState

__all__ = ["ApiToken", "AuditEvent", "AuditHead", "Job", "JobState", "Membership", "Project", "slug_validator"]
