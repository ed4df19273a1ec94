"""Shapes of the governance API: decisions, policy checks, policies, audit events."""

from __future__ import annotations

from rest_framework import serializers

from core.api.fields import StrictFieldsMixin

from ..models import Action, Decision, Operator, Policy, PolicyCheck, Severity


class DecisionInputSerializer(StrictFieldsMixin, serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    waiver = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.CharField(source="decided_by.username")
    version = serializers.UUIDField(source="version_id")
    policy_check = serializers.UUIDField(source="policy_check_id", allow_null=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "version",
            "action",
            "decided_by",
            "decided_via",
            "comment",
            "waiver",
            "waived_rules",
            "policy_check",
            "review_round",
            "from_status",
            "to_status",
            "created_at",
        ]


class PolicyCheckSerializer(serializers.ModelSerializer):
    version = serializers.UUIDField(source="version_id")
    evaluation = serializers.UUIDField(source="evaluation_id", allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)

    class Meta:
        model = PolicyCheck
        fields = [
            "id",
            "version",
            "evaluation",
            "trigger",
            "verdict",
            "outcomes",
            "policies",
            "requested_by",
            "created_at",
        ]


class RuleSerializer(StrictFieldsMixin, serializers.Serializer):
    metric = serializers.CharField(max_length=100)
    operator = serializers.ChoiceField(choices=Operator.values)
    threshold = serializers.FloatField()
    severity = serializers.ChoiceField(choices=Severity.values)
    explanation = serializers.CharField()


class PolicyInputSerializer(StrictFieldsMixin, serializers.Serializer):
    project = serializers.SlugField(max_length=63)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    rules = RuleSerializer(many=True, allow_empty=False)


class PolicySerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="null for a global policy"
    )
    rules = serializers.SerializerMethodField()

    class Meta:
        model = Policy
        fields = ["id", "project", "name", "description", "version", "is_active", "rules", "created_at", "updated_at"]

    def get_rules(self, policy) -> list[dict]:
        return [
            {
                "id": rule.pk,
                "metric": rule.metric,
                "operator": rule.operator,
                "threshold": rule.threshold,
                "severity": rule.severity,
                "explanation": rule.explanation,
            }
            for rule in policy.rules.all()
        ]


class RevokeInputSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=10000, allow_blank=True)
