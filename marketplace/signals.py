"""Housekeeping only: cache invalidation."""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from marketplace.models import Scope
from marketplace.selectors import SCOPE_CATALOGUE_CACHE_KEY


@receiver([post_save, post_delete], sender=Scope)
def forget_scope_catalogue(**kwargs: object) -> None:
    cache.delete(SCOPE_CATALOGUE_CACHE_KEY)
