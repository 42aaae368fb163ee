"""`python manage.py rollout_status LISTING_KEY`: the rollouts of a listing with their counts,
and the installations per version (the same figures as the vendor's listing page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketplace.models import Listing
from upgrades.selectors import listing_adoption, listing_rollouts

COLUMNS = ("applied", "scheduled", "awaiting_consent", "rejected", "failed", "expired", "total")


class Command(BaseCommand):
    help = "Print the rollout progress (applied / scheduled / awaiting consent / rejected / failed) and adoption of a listing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("listing_key")
        parser.add_argument("--limit", type=int, default=10, help="How many of the latest rollouts (default 10)")

    def handle(self, *args: Any, listing_key: str, limit: int, **options: Any) -> None:
        listing = Listing.objects.filter(key=listing_key).first()
        if listing is None:
            raise CommandError(f"No listing with key {listing_key!r}.")
        self.stdout.write(f"{listing.key} ({listing.name}), scheme {listing.scheme}")
        rollouts = listing_rollouts(listing=listing, limit=limit)
        if not rollouts:
            self.stdout.write("no rollouts yet")
        header = f"{'version':<20} {'state':<11} " + " ".join(f"{c:>16}" for c in COLUMNS) + "  progress"
        if rollouts:
            self.stdout.write(header)
        for item in rollouts:
            r, p = item["rollout"], item["progress"]
            filled = round(p["done_percent"] / 5)
            bar = "[" + "#" * filled + "." * (20 - filled) + f"] {p['done_percent']}%"
            counts = " ".join(f"{p[c]:>16}" for c in COLUMNS)
            self.stdout.write(f"{r.version.number:<20} {r.state:<11} {counts}  {bar}")
        self.stdout.write("adoption (installations per version):")
        for row in listing_adoption(listing=listing):
            self.stdout.write(f"  {row['number']:<20} {row['installations']:>8}  {row['percent']}%")
