"""Input and output shapes of the identity-and-trail API: projects and audit events."""

from __future__ import annotations

from rest_framework import serializers

from ..checkpoints import as_json
from ..models import AuditCheckpoint, AuditEvent, Project, SigningKey
from .fields import StrictFieldsMixin


class ProjectSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "required_approvals", "created_at", "roles"]

    def get_roles(self, project) -> list[str]:
        roles = self.context.get("roles_by_project", {})
        return sorted(roles.get(project.pk, ()))


class ProjectUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    """PATCH /api/v1/projects/{slug}/ (project admins)."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    required_approvals = serializers.IntegerField(min_value=1, max_value=10, required=False)


class AuditEventSerializer(serializers.ModelSerializer):
    before = serializers.JSONField()
    after = serializers.JSONField()
    project = serializers.CharField(source="project_slug")
    actor = serializers.CharField(source="actor_username")

    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "occurred_at",
            "actor",
            "actor_via",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "project",
            "before",
            "after",
            "request_id",
            "client_ip",
            "prev_hash",
            "hash",
        ]


class SigningKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = SigningKey
        fields = ["key_id", "algorithm", "public_key_pem", "created_at", "retired_at"]


class AuditCheckpointSerializer(serializers.ModelSerializer):
    timestamp = serializers.SerializerMethodField()

    class Meta:
        model = AuditCheckpoint
        fields = ["tree_size", "root_hash", "origin", "timestamp", "key_id", "signature", "note"]

    def get_timestamp(self, checkpoint) -> str:
        """RFC 3339 UTC to the second, exactly as signed in the note."""
        return as_json(checkpoint)["timestamp"]


class InclusionProofSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    leaf_index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="hex SHA-256(0x00 || the event's 32-byte chain hash)")
    root_hash = serializers.CharField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="hex hashes, RFC 9162 §2.1.3")
    checkpoint = AuditCheckpointSerializer(allow_null=True, help_text="the signed checkpoint of this tree size, if any")


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    first_root = serializers.CharField()
    second_root = serializers.CharField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="hex hashes, RFC 9162 §2.1.4")
