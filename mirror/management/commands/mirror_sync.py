"""Sync mirror sources now: `manage.py mirror_sync [--source ID]` prints what each sync did."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mirror.models import MirrorSource, MirrorSync
from mirror.services import mirror_sync


class Command(BaseCommand):
    help = "Mirror listings and versions from upstream portals (all enabled sources, or one)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", type=int, help="The id of one mirror source (enabled or not)")

    def handle(self, *args, source: int | None = None, **options) -> None:
        if source is not None:
            sources = list(MirrorSource.objects.filter(pk=source))
            if not sources:
                raise CommandError(f"No mirror source with id {source}.")
        else:
            sources = list(MirrorSource.objects.filter(enabled=True).order_by("pk"))
            if not sources:
                self.stdout.write("No enabled mirror sources.")
                return
        failed = 0
        for item in sources:
            sync = mirror_sync(source=item, trigger=MirrorSync.Trigger.COMMAND)
            line = f"{item} (#{item.pk}): {sync.get_outcome_display()} - {sync.summary}"
            if sync.outcome in (MirrorSync.Outcome.FAILED, MirrorSync.Outcome.PARTIAL):
                failed += 1
                self.stdout.write(self.style.WARNING(line))
            else:
                self.stdout.write(self.style.SUCCESS(line))
        if failed:
            raise CommandError(
                f"{failed} of {len(sources)} sources had errors (see above and the admin's sync history)."
            )
