"""Housekeeping only: cache invalidation."""

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from marketplace.models import Scope
from marketplace.selectors import SCOPE_CATALOGUE_CACHE_KEY, SCOPE_REQUIREMENTS_CACHE_KEY


@receiver([post_save, post_delete], sender=Scope)
def forget_scope_catalogue(**kwargs: object) -> None:
    cache.delete_many([SCOPE_CATALOGUE_CACHE_KEY, SCOPE_REQUIREMENTS_CACHE_KEY])


@receiver(m2m_changed, sender=Scope.requires.through)
def forget_scope_requirements(**kwargs: object) -> None:
    cache.delete(SCOPE_REQUIREMENTS_CACHE_KEY)
