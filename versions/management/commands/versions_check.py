"""Check version numbers the way the portal will: `versions_check [--scheme S] [--sort] VERSION...`"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from versions.numbers import VersionNumberError
from versions.schemes import SCHEMES, validate_number


class Command(BaseCommand):
    help = "Check version numbers (strict SemVer 2.0.0 plus the scheme's rules); exit 1 if any is invalid."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("versions", nargs="+", metavar="VERSION")
        parser.add_argument("--scheme", choices=SCHEMES, default="manual", help="numbering scheme (default: manual)")
        parser.add_argument("--sort", action="store_true", help="then print the valid numbers in ascending precedence")

    def handle(self, *args: Any, **options: Any) -> None:
        valid = []
        invalid = 0
        for text in options["versions"]:
            try:
                valid.append(validate_number(options["scheme"], text))
            except VersionNumberError as exc:
                invalid += 1
                self.stdout.write(f"{text}: invalid: {exc.message}")
            else:
                self.stdout.write(f"{text}: ok")
        if options["sort"]:
            self.stdout.write("sorted:")
            for number in sorted(valid):
                self.stdout.write(number.text)
        if invalid:
            sys.exit(1)
