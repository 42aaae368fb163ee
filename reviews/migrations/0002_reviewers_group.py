"""The `Reviewers` group with exactly what a reviewer needs.

Permissions are normally created after all migrations (post_migrate), so this
migration creates the ones it needs first. The list is frozen here on purpose:
a later change to the group belongs in a new migration.
"""

from django.db import migrations

GROUP_NAME = "Reviewers"
PERMISSIONS = [
    ("versions", "review_version"),
    ("versions", "view_version"),
    ("versions", "view_versiontransition"),
    ("reviews", "view_reviewqueueversion"),
    ("marketplace", "view_listing"),
    ("marketplace", "view_vendor"),
    ("marketplace", "view_scope"),
]


def create_reviewers_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for label in {app_label for app_label, _ in PERMISSIONS}:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    permissions = []
    for app_label, codename in PERMISSIONS:
        permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    group.permissions.set(permissions)


def remove_reviewers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("marketplace", "0002_initial"),
        ("versions", "0001_initial"),
        ("reviews", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_reviewers_group, remove_reviewers_group)]
