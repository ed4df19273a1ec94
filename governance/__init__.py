"""Who may do what, and the tamper-evident record of what was done: projects, roles, tokens, audit trail."""
