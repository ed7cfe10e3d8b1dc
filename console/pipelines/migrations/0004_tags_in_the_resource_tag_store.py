"""A pipeline's tags move to the one tag store every resource uses (core.ResourceTag)."""

from django.db import migrations


def move_tags(apps, schema_editor):
    Pipeline = apps.get_model("pipelines", "Pipeline")
    ResourceTag = apps.get_model("core", "ResourceTag")
    for resource_arn, tags in Pipeline.objects.values_list("arn", "tags"):
        ResourceTag.objects.bulk_create(
            ResourceTag(resource_arn=resource_arn, key=t["Key"], value=t.get("Value", ""))
            for t in tags or []
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("pipelines", "0003_pipelineschedule_pipelineexecution_schedule_and_more"),
    ]

    operations = [
        migrations.RunPython(move_tags, migrations.RunPython.noop),
        migrations.RemoveField(model_name="pipeline", name="tags"),
    ]
