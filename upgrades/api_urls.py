"""REST endpoints of the upgrades app (installations, upgrade requests, update check, rollouts)."""

from django.urls import path

from upgrades import api

urlpatterns = [
    path("sites/<int:pk>/updates", api.SiteUpdatesApi.as_view(), name="api-site-updates"),
    path("sites/<int:pk>/installations", api.InstallationListApi.as_view(), name="api-site-installations"),
    path(
        "sites/<int:pk>/installations/<int:installation_pk>/upgrade",
        api.InstallationUpgradeApi.as_view(),
        name="api-installation-upgrade",
    ),
    path("sites/<int:pk>/migrations", api.SiteMigrationsApi.as_view(), name="api-site-migrations"),
    path(
        "sites/<int:pk>/migrations/<int:migration_pk>/offers",
        api.MigrationOffersApi.as_view(),
        name="api-site-migration-offers",
    ),
    path(
        "sites/<int:pk>/migration-offers/<int:offer_pk>/accept",
        api.MigrationOfferAcceptApi.as_view(),
        name="api-migration-offer-accept",
    ),
    path(
        "sites/<int:pk>/migration-offers/<int:offer_pk>/keep",
        api.MigrationOfferKeepApi.as_view(),
        name="api-migration-offer-keep",
    ),
    path("upgrade-requests", api.UpgradeRequestListApi.as_view(), name="api-upgrade-requests"),
    path(
        "upgrade-requests/<int:pk>/approve",
        api.UpgradeRequestDecisionApi.as_view(action="approve"),
        name="api-upgrade-request-approve",
    ),
    path(
        "upgrade-requests/<int:pk>/reject",
        api.UpgradeRequestDecisionApi.as_view(action="reject"),
        name="api-upgrade-request-reject",
    ),
    path("listings/<str:key>/rollouts", api.ListingRolloutsApi.as_view(), name="api-listing-rollouts"),
    path("rollouts/<int:pk>/halt", api.RolloutControlApi.as_view(action="halt"), name="api-rollout-halt"),
    path("rollouts/<int:pk>/resume", api.RolloutControlApi.as_view(action="resume"), name="api-rollout-resume"),
]

# OCP beta share links: the vendor's links on a beta version, and a site admin's install.
from upgrades import api_beta  # noqa: E402

urlpatterns += [
    path("versions/<int:pk>/beta-links", api_beta.VersionBetaLinksApi.as_view(), name="api-version-beta-links"),
    path(
        "versions/<int:pk>/beta-links/<int:link_pk>",
        api_beta.VersionBetaLinkDetailApi.as_view(),
        name="api-version-beta-link",
    ),
    path("beta-links/install", api_beta.BetaInstallApi.as_view(), name="api-beta-install"),
]
