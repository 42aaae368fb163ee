"""The `Review leads` group (a reviewer who also assigns work, edits the checklist and sees the
metrics), and the default review checklist per scheme.

Both lists are frozen here on purpose: later changes belong in a new migration (the
checklist itself is data that leads edit in the admin afterwards).
"""

from django.db import migrations

GROUP_NAME = "Review leads"
PERMISSIONS = [
    ("versions", "review_version"),
    ("versions", "view_version"),
    ("versions", "view_versiontransition"),
    ("reviews", "view_reviewqueueversion"),
    ("reviews", "lead_reviews"),
    ("reviews", "view_checklistitem"),
    ("reviews", "add_checklistitem"),
    ("reviews", "change_checklistitem"),
    ("reviews", "delete_checklistitem"),
    ("marketplace", "view_listing"),
    ("marketplace", "view_vendor"),
    ("marketplace", "view_scope"),
]

# (scheme or "" for every scheme, text)
CHECKLIST = [
    ("", "The scopes asked for are justified by the update notes"),
    ("", "Apps asking for write scopes link to a privacy policy"),
    ("", "Pricing is consistent with the listing and the update notes"),
    ("", "The update notes describe the change in words a customer understands"),
    ("connect", "The descriptor was fetched from the listing's descriptor URL"),
    ("forge", "The deploy matches the vendor's production environment"),
    ("ocp", "The version number's tag matches the channel it goes to"),
    ("bundle", "Every component's version exists and is compatible with the others"),
]


def create_leads_and_checklist(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for label in {app_label for app_label, _ in PERMISSIONS}:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    group.permissions.set(
        [Permission.objects.get(content_type__app_label=a, codename=c) for a, c in PERMISSIONS]
    )
    ChecklistItem = apps.get_model("reviews", "ChecklistItem")
    if not ChecklistItem.objects.exists():
        ChecklistItem.objects.bulk_create(
            ChecklistItem(scheme=scheme, text=text, position=10 * (i + 1)) for i, (scheme, text) in enumerate(CHECKLIST)
        )


def remove_leads_and_checklist(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()
    apps.get_model("reviews", "ChecklistItem").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("reviews", "0003_review_workspace"),
    ]

    operations = [migrations.RunPython(create_leads_and_checklist, remove_leads_and_checklist)]
