"""Governance models, one module per concern, re-exported here."""

from .accounts import ApiToken, Membership, Project, slug_validator
from .audit import AuditEvent, AuditHead
from .policies import CheckVerdict, Operator, Policy, PolicyCheck, PolicyRule, Severity, Verdict
from .reviews import Action, Decision, ImpactFlag, ReviewQueueItem

__all__ = [
    "Action",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "CheckVerdict",
    "Decision",
    "ImpactFlag",
    "Membership",
    "Operator",
    "Policy",
    "PolicyCheck",
    "PolicyRule",
    "Project",
    "ReviewQueueItem",
    "Severity",
    "Verdict",
    "slug_validator",
]
