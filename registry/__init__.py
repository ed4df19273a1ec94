"""The records: synthetic datasets, their versions, provenance, evaluations and lineage."""
