"""Governance models (policies, checks, decisions, flags), one module per concern, re-exported here."""

from .attestations import Attestation
from .policies import CheckVerdict, Operator, Policy, PolicyCheck, PolicyRule, Severity, Verdict
from .reviews import Action, Decision, ImpactFlag, ReviewQueueItem

__all__ = [
    "Action",
    "Attestation",
    "CheckVerdict",
    "Decision",
    "ImpactFlag",
    "Operator",
    "Policy",
    "PolicyCheck",
    "PolicyRule",
    "ReviewQueueItem",
    "Severity",
    "Verdict",
]
