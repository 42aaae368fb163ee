"""`python manage.py seed_demo`: the demo data `make run` shows (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from demo import accounts as accounts_demo
from demo import callbacks as callbacks_demo
from demo import catalogue as catalogue_demo
from demo import sites as upgrades_demo
from demo import stages as stages_demo
from demo import storefront as storefront_demo
from versions import demo as versions_demo


class Command(BaseCommand):
    help = "Create demo vendors, users, listings, versions, sites and rollouts (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        catalogue_demo.seed(self.stdout)
        versions_demo.seed(self.stdout)  # automatic versions: the connect listing that polls the portal itself
        callbacks_demo.seed(self.stdout)  # before the sites: their installations call the demo app
        upgrades_demo.seed(self.stdout)
        stages_demo.seed(self.stdout)  # issue #16: a rollout in stages and a yanked version
        storefront_demo.seed(self.stdout)  # the storefront's catalogue: 30+ listings with icons
        accounts_demo.seed(self.stdout)  # verified demo addresses, one vendor and one site-admin invitation
