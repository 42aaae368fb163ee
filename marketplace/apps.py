from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from marketplace import signals  # noqa: F401 - registers the cache invalidation
