"""Pre-flight for vendors: what would a new descriptor do to the version number?

    python manage.py descriptor_diff OLD_FILE NEW_FILE [--scheme connect|forge] [--from VERSION]

Prints `bump: major|minor|patch|none`, `next: X.Y.Z` (with --from), one
`reason: ...` line per change and `consent: required|not required`; exit 0.
An invalid descriptor prints `error: REASON` and exits 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from core.errors import ApplicationError
from versions import descriptors

EXIT_INVALID = 2


class Command(BaseCommand):
    help = "Compare two descriptors (connect JSON or forge YAML) and print the bump, reasons and consent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("old_file")
        parser.add_argument("new_file")
        parser.add_argument(
            "--scheme",
            choices=descriptors.DESCRIPTOR_SCHEMES,
            default=None,
            help="default: forge for .yml/.yaml files, connect otherwise",
        )
        parser.add_argument(
            "--from",
            dest="from_number",
            default=None,
            metavar="VERSION",
            help="the current version number, to print the next one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scheme = options["scheme"] or descriptors.guess_scheme(options["new_file"])
        try:
            old = self._read(options["old_file"])
            new = self._read(options["new_file"])
            report = descriptors.diff_documents(
                old, new, scheme=scheme, catalogue=self._catalogue(), from_number=options["from_number"]
            )
        except ApplicationError as exc:
            self.stdout.write(f"error: {exc.message}")
            sys.exit(EXIT_INVALID)
        for line in report.lines():
            self.stdout.write(line)

    @staticmethod
    def _read(name: str) -> bytes:
        try:
            return Path(name).read_bytes()
        except OSError as exc:
            raise ApplicationError(f"cannot read {name}: {exc.strerror}.", field="file") from None

    @staticmethod
    def _catalogue() -> dict[str, int]:
        """The scope catalogue; without a database every scope counts as unknown (most sensitive)."""
        try:
            from marketplace.selectors import scope_catalogue

            return scope_catalogue()
        except DatabaseError:
            return {}
