# A rollout chunk's keyset query (listing_id = ? AND id > cursor ORDER BY id LIMIT n) reads its own rows only.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("upgrades", "0008_merge_site_invitations"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="installation",
            index=models.Index(fields=["listing", "id"], name="installation_rollout_keyset"),
        ),
    ]
