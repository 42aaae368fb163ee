"""Make a mirror token for a downstream portal: `manage.py mirror_token "ACME internal market"` (shown once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from mirror.services import mirror_token_create


class Command(BaseCommand):
    help = "Create a token a downstream portal uses to read this portal's mirror feed (printed once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Which portal will use it")

    def handle(self, *args, name: str, **options) -> None:
        try:
            _, raw = mirror_token_create(name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(raw)
