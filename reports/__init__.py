"""Dataset cards and audit exports."""
