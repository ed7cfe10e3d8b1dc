"""A variant's autoscaling, kept before as ``{min_instances, max_instances,
target_invocations_per_instance}``, becomes a scalable target with that target as its
target-tracking policy (the one the console sets), as Application Auto Scaling describes it."""

import time
import uuid

from django.conf import settings
from django.db import migrations

CONSOLE_POLICY = "invocations-per-instance"


def to_scalable_targets(apps, schema_editor):
    variants = apps.get_model("endpoints", "EndpointVariant").objects.select_related("endpoint")
    for variant in variants.filter(autoscaling__isnull=False):
        old = variant.autoscaling
        if "policies" in old or "target_invocations_per_instance" not in old:
            continue
        policy_id = str(uuid.uuid4())
        resource = f"endpoint/{variant.endpoint.name}/variant/{variant.name}"
        account = f"{variant.endpoint.owner_id:012d}"
        region = settings.SAGEMAKER_REGION
        variant.autoscaling = {
            "min_instances": old["min_instances"],
            "max_instances": old["max_instances"],
            "id": uuid.uuid4().hex,
            "created_at": time.time(),
            "suspended": {},
            "policies": [
                {
                    "PolicyARN": f"arn:aws:autoscaling:{region}:{account}:scalingPolicy:"
                    f"{policy_id}:resource/sagemaker/{resource}:policyName/{CONSOLE_POLICY}",
                    "PolicyName": CONSOLE_POLICY,
                    "PolicyType": "TargetTrackingScaling",
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": float(old["target_invocations_per_instance"]),
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                        },
                        "ScaleOutCooldown": 0,
                        "ScaleInCooldown": 60,
                    },
                    "CreationTime": time.time(),
                    "Alarms": [],
                }
            ],
        }
        variant.save(update_fields=["autoscaling"])


class Migration(migrations.Migration):
    dependencies = [("endpoints", "0002_variants")]

    operations = [migrations.RunPython(to_scalable_targets, migrations.RunPython.noop)]
