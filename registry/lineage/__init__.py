"""OpenLineage: ingest (Marquez-compatible), the lineage graph, and emission of the registry's own events."""
