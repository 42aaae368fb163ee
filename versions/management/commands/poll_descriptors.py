"""Poll connect listings' descriptors now.

python manage.py poll_descriptors                 # every pollable listing, here and now
python manage.py poll_descriptors KEY [KEY ...]   # these listings
python manage.py poll_descriptors --enqueue       # what beat does: queue the due ones, spread out
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from versions.models import DescriptorPoll
from versions.services.automatic import listing_poll_descriptor, pollable_listings


class Command(BaseCommand):
    help = "Poll the descriptors of connect listings and create versions for changed ones."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("keys", nargs="*", help="listing keys (default: every connect listing with a URL)")
        parser.add_argument("--enqueue", action="store_true", help="queue the due polls on Celery, spread out")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from versions.tasks import poll_due_descriptors

            poll_due_descriptors.delay()
            self.stdout.write("queued the fan-out of due descriptor polls")
            return
        listings = pollable_listings().order_by("key")
        if options["keys"]:
            listings = listings.filter(key__in=options["keys"])
            missing = set(options["keys"]) - set(listings.values_list("key", flat=True))
            if missing:
                raise CommandError(f"not a connect listing with a descriptor URL: {', '.join(sorted(missing))}")
        failures = 0
        for listing in listings:
            try:
                poll = listing_poll_descriptor(listing=listing, trigger=DescriptorPoll.Trigger.COMMAND)
            except ApplicationError as exc:
                failures += 1
                self.stdout.write(f"{listing.key}: error: {exc.message}")
                continue
            line = f"{listing.key}: {poll.outcome}"
            if poll.http_status:
                line += f" (HTTP {poll.http_status})"
            if poll.version_id:
                line += f" version {poll.version.number} [{poll.version.state}]"
            if poll.failed:
                failures += 1
                line += f": {poll.error}"
            self.stdout.write(line)
        if failures:
            self.stderr.write(f"{failures} poll(s) failed")
