"""A model package group's tags move to the one tag store every resource uses (core.ResourceTag)."""

from django.db import migrations


def move_tags(apps, schema_editor):
    ModelPackageGroup = apps.get_model("registry", "ModelPackageGroup")
    ResourceTag = apps.get_model("core", "ResourceTag")
    for resource_arn, tags in ModelPackageGroup.objects.values_list("arn", "tags"):
        ResourceTag.objects.bulk_create(
            ResourceTag(resource_arn=resource_arn, key=t["Key"], value=t.get("Value", ""))
            for t in tags or []
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("registry", "0002_modelpackagegroup_modelpackage_and_more"),
    ]

    operations = [
        migrations.RunPython(move_tags, migrations.RunPython.noop),
        migrations.RemoveField(model_name="modelpackagegroup", name="tags"),
    ]
