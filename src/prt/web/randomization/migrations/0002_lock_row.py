"""The single lock row every randomization holds FOR UPDATE (randomization/services.py)."""

from django.db import migrations


def create_lock(apps, schema_editor):
    apps.get_model("randomization", "AllocationLock").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("randomization", "0001_initial")]

    operations = [migrations.RunPython(create_lock, migrations.RunPython.noop, elidable=False)]
