"""The registry's custom OpenLineage facets: names, JSON Schemas (served by the registry) and client classes.

Custom facet keys follow the spec's `{prefix}_{name}` convention with the prefix `syntheticRegistry`.
A pipeline marks an output as a synthetic dataset version with `syntheticRegistry_generator` (and,
optionally, `syntheticRegistry_content`); the registry emits `syntheticRegistry_evaluation` and
`syntheticRegistry_approval` on its own events.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = "1-0-0"
GENERATOR_FACET = "syntheticRegistry_generator"
CONTENT_FACET = "syntheticRegistry_content"
EVALUATION_FACET = "syntheticRegistry_evaluation"
APPROVAL_FACET = "syntheticRegistry_approval"

_BASE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "allOf": [{"$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetFacet"}],
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "SyntheticRegistryGeneratorDatasetFacet": {
        **_BASE,
        "title": "SyntheticRegistryGeneratorDatasetFacet",
        "description": "Marks an output as a synthetic dataset version and names how it was generated.",
        "properties": {
            "name": {"type": "string", "description": "Generator implementation, e.g. sdv.GaussianCopulaSynthesizer"},
            "version": {"type": "string", "description": "Generator version"},
            "parameters": {"type": "object", "description": "Generator parameters (hyperparameters)"},
            "seed": {"type": ["integer", "null"], "description": "Random seed"},
            "codeVersion": {"type": "string", "description": "Version of the generating code (e.g. a git SHA)"},
            "dataset": {"type": "string", "description": "Registry dataset name (default: the output's name)"},
        },
        "required": ["name"],
    },
    "SyntheticRegistryContentDatasetFacet": {
        **_BASE,
        "title": "SyntheticRegistryContentDatasetFacet",
        "description": "The bytes of a synthetic output: fingerprint, schema and counts, or where to read them.",
        "properties": {
            "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 of the bytes"},
            "schema": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "dtype": {"type": "string"},
                        "sdtype": {"type": "string"},
                    },
                    "required": ["name", "dtype"],
                },
            },
            "rowCount": {"type": "integer", "minimum": 0},
            "byteCount": {"type": "integer", "minimum": 0},
            "storageUri": {
                "type": "string",
                "description": "file:// under a registry data root: the registry reads it",
            },
            "format": {"enum": ["csv", "csv.gz", "parquet"]},
        },
    },
    "SyntheticRegistryEvaluationDatasetFacet": {
        **_BASE,
        "title": "SyntheticRegistryEvaluationDatasetFacet",
        "description": "Scores of the registry's verified evaluation of a synthetic dataset version.",
        "properties": {
            "evaluationId": {"type": "string"},
            "origin": {"enum": ["verified", "reported"]},
            "metrics": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        },
    },
    "SyntheticRegistryApprovalDatasetFacet": {
        **_BASE,
        "title": "SyntheticRegistryApprovalDatasetFacet",
        "description": "The review status of a synthetic dataset version in the registry.",
        "properties": {
            "status": {"type": "string"},
            "action": {"type": "string"},
            "decidedBy": {"type": "string"},
            "comment": {"type": "string"},
            "waiver": {"type": "string"},
            "policyVerdict": {"enum": ["pass", "warn", "block", None]},
            "registryUrl": {"type": "string"},
        },
    },
}


def schema_url(base_url: str, title: str) -> str:
    """The immutable, versioned URL under which the registry serves a facet's schema."""
    return f"{base_url.rstrip('/')}/openlineage/facets/{SCHEMA_VERSION}/{title}.json"
