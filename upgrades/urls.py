"""Pages of the upgrades app (consent links, site pages)."""

urlpatterns: list = []
