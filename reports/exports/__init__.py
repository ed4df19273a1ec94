"""Audit evidence exports: streamed version records, the audit-event extract with chain verification, files."""
