from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("versions", "0003_version_source_mirror"),
    ]

    operations = [
        migrations.AddField(
            model_name="version",
            name="breaking",
            field=models.BooleanField(
                default=False, help_text="Breaks compatibility with the live version: needs a MAJOR bump"
            ),
        ),
    ]
