"""What the registry announces to the layers above it (review and policy, reports); they subscribe in
AppConfig.ready(). Receivers run inside the sender's transaction (core.hooks)."""

from core.hooks import Hook

evidence_changed = Hook(
    "evidence_changed",
    arguments=("version_id", "trigger"),
    doc="Something a version's card shows changed (registration, an evaluation, a source record, a policy "
    "check, a decision); `trigger` says what. Sent inside the writing transaction.",
)

evaluation_started = Hook(
    "evaluation_started",
    arguments=("evaluation", "actor"),
    doc="A worker started a verified evaluation of `evaluation.version` (each attempt sends it).",
)

evaluation_finished = Hook(
    "evaluation_finished",
    arguments=("evaluation", "actor", "succeeded"),
    doc="A verified evaluation ended: succeeded (its metrics are stored) or failed. Sent in the transaction "
    "that stored the outcome, so what reacts to it (the version's status, its policy check) commits with it.",
)
