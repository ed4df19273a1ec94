"""Input and output shapes of the identity-and-trail API: projects and audit events."""

from __future__ import annotations

from rest_framework import serializers

from ..models import AuditEvent, Project
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
