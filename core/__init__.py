"""Identity and trail, the bottom layer: projects, roles, tokens, the audit trail, the job framework and hooks.

Every other app builds on this one; it imports none of them.
"""
