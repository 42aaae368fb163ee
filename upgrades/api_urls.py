"""REST endpoints of the upgrades app (installations, upgrade requests, update check)."""

urlpatterns: list = []
