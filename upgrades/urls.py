"""The upgrades app's URLs: the site admin's pages (namespace `upgrades`, mounted at /upgrades/),
the vendor's beta-link buttons (part of the vendor portal, namespace `portal`), and the API."""

from django.urls import path

from upgrades.api import analytics as analytics_api
from upgrades.api import auth as auth_api  # noqa: F401 - registers the Site token scheme with the OpenAPI schema
from upgrades.api import beta as beta_api
from upgrades.api import deliveries as deliveries_api
from upgrades.api import migration as migration_api
from upgrades.api import notifications as notifications_api
from upgrades.api import requests as requests_api
from upgrades.api import rollouts as rollouts_api
from upgrades.api import sites as sites_api
from upgrades.api import testing as testing_api
from upgrades.views import analytics, beta, consent, deliveries, migration, notifications, rollouts, sites, testing

urlpatterns = [
    path("", sites.site_list, name="sites"),
    path("sites/new/", sites.site_register, name="site-register"),
    path("sites/<int:pk>/", sites.site_detail, name="site"),
    path("sites/<int:pk>/tokens/", sites.site_token_create, name="site-token-create"),
    path("sites/<int:pk>/tokens/<int:token_pk>/revoke/", sites.site_token_revoke, name="site-token-revoke"),
    path("sites/<int:pk>/invitations/", sites.site_invite, name="site-invite"),
    path(
        "sites/<int:pk>/invitations/<int:invitation_pk>/revoke/",
        sites.site_invitation_revoke,
        name="site-invitation-revoke",
    ),
    path("sites/<int:pk>/settings/", sites.site_settings, name="site-settings"),
    # Notification preferences (issue #16 item 5): the admin's own e-mails for the site; the e-mailed link.
    path("sites/<int:pk>/notifications/", notifications.site_notifications, name="site-notifications"),
    path("unsubscribe/<str:token>/", notifications.unsubscribe, name="unsubscribe"),
    path(
        "sites/<int:site_pk>/installations/<int:pk>/upgrade/", sites.installation_upgrade, name="installation-upgrade"
    ),
    *[
        path(
            f"sites/<int:site_pk>/installations/<int:pk>/{action}/",
            sites.installation_action,
            {"action": action},
            name=f"installation-{action}",
        )
        for action in sites.INSTALLATION_ACTIONS
    ],
    path(
        "sites/<int:site_pk>/installations/<int:pk>/deliveries/",
        deliveries.installation_deliveries,
        name="installation-deliveries",
    ),
    path("sites/<int:pk>/migrate/", migration.site_migrate, name="site-migrate"),
    path("sites/<int:site_pk>/migrations/<int:pk>/", migration.migration_detail, name="migration"),
    path(
        "sites/<int:site_pk>/migration-offers/<int:pk>/accept/",
        migration.migration_offer_accept,
        name="migration-offer-accept",
    ),
    path(
        "sites/<int:site_pk>/migration-offers/<int:pk>/keep/",
        migration.migration_offer_keep,
        name="migration-offer-keep",
    ),
    path("requests/<int:pk>/", consent.request_detail, name="request"),
    path("consent/<int:request_id>/<str:token>/", consent.consent, name="consent"),
    path("listings/<str:key>/rollouts/", rollouts.listing_rollouts, name="listing-rollouts"),
    path("rollouts/<int:pk>/halt/", rollouts.rollout_control, {"action": "halt"}, name="rollout-halt"),
    path("rollouts/<int:pk>/resume/", rollouts.rollout_control, {"action": "resume"}, name="rollout-resume"),
    path("rollouts/<int:pk>/advance/", rollouts.rollout_advance, name="rollout-advance"),  # issue #16
    # OCP beta share links: the page a vendor's signed link opens.
    path("beta/<str:token>/", beta.beta_link, name="beta-link"),
    # Private testing: a version's members see and install it before it is published.
    path("testing/<int:pk>/", testing.tested_version, name="tested-version"),
]

# The vendor's buttons on a beta version's page, and its callbacks and webhooks pages.
portal_urlpatterns = [
    path("listings/<str:key>/analytics/", analytics.listing_analytics_page, name="listing-analytics"),
    path("listings/<str:key>/deliveries/", deliveries.listing_deliveries, name="listing-deliveries"),
    path("listings/<str:key>/lifecycle-urls/", deliveries.listing_lifecycle_urls, name="listing-lifecycle-urls"),
    path("listings/<str:key>/webhooks/", deliveries.webhook_create, name="webhook-create"),
    *[
        path(f"webhooks/<int:pk>/{action}/", deliveries.webhook_action, {"action": action}, name=f"webhook-{action}")
        for action in ("rotate", "delete", "test")
    ],
    path("deliveries/<int:pk>/", deliveries.delivery_detail, name="delivery-detail"),
    path("deliveries/<int:pk>/redeliver/", deliveries.delivery_redeliver, name="delivery-redeliver"),
    path("versions/<int:pk>/beta-links/", beta.version_beta_link_create, name="version-beta-link-create"),
    path(
        "versions/<int:pk>/beta-links/<int:link_pk>/revoke/",
        beta.version_beta_link_revoke,
        name="version-beta-link-revoke",
    ),
]

api_urlpatterns = [
    # Notification preferences (issue #16 item 5): yours as a vendor's person, and yours for one site.
    path("notifications", notifications_api.EmailPreferencesApi.as_view(), name="api-notifications"),
    path(
        "sites/<int:pk>/notifications", notifications_api.SiteNotificationsApi.as_view(), name="api-site-notifications"
    ),
    path("sites/<int:pk>/updates", sites_api.SiteUpdatesApi.as_view(), name="api-site-updates"),
    path("sites/<int:pk>/installations", sites_api.InstallationListApi.as_view(), name="api-site-installations"),
    path(
        "sites/<int:pk>/installations/<int:installation_pk>",
        sites_api.InstallationApi.as_view(),
        name="api-installation",
    ),
    path(
        "sites/<int:pk>/installations/<int:installation_pk>/disable",
        sites_api.InstallationSwitchApi.as_view(action="disable"),
        name="api-installation-disable",
    ),
    path(
        "sites/<int:pk>/installations/<int:installation_pk>/enable",
        sites_api.InstallationSwitchApi.as_view(action="enable"),
        name="api-installation-enable",
    ),
    path(
        "sites/<int:pk>/installations/<int:installation_pk>/upgrade",
        sites_api.InstallationUpgradeApi.as_view(),
        name="api-installation-upgrade",
    ),
    path("sites/<int:pk>/migrations", migration_api.SiteMigrationsApi.as_view(), name="api-site-migrations"),
    path(
        "sites/<int:pk>/migrations/<int:migration_pk>/offers",
        migration_api.MigrationOffersApi.as_view(),
        name="api-site-migration-offers",
    ),
    path(
        "sites/<int:pk>/migration-offers/<int:offer_pk>/accept",
        migration_api.MigrationOfferAcceptApi.as_view(),
        name="api-migration-offer-accept",
    ),
    path(
        "sites/<int:pk>/migration-offers/<int:offer_pk>/keep",
        migration_api.MigrationOfferKeepApi.as_view(),
        name="api-migration-offer-keep",
    ),
    path("upgrade-requests", requests_api.UpgradeRequestListApi.as_view(), name="api-upgrade-requests"),
    path(
        "upgrade-requests/<int:pk>/approve",
        requests_api.UpgradeRequestDecisionApi.as_view(action="approve"),
        name="api-upgrade-request-approve",
    ),
    path(
        "upgrade-requests/<int:pk>/reject",
        requests_api.UpgradeRequestDecisionApi.as_view(action="reject"),
        name="api-upgrade-request-reject",
    ),
    path("listings/<str:key>/analytics", analytics_api.ListingAnalyticsApi.as_view(), name="api-listing-analytics"),
    path("listings/<str:key>/rollouts", rollouts_api.ListingRolloutsApi.as_view(), name="api-listing-rollouts"),
    path("rollouts/<int:pk>/halt", rollouts_api.RolloutControlApi.as_view(action="halt"), name="api-rollout-halt"),
    path(
        "rollouts/<int:pk>/resume", rollouts_api.RolloutControlApi.as_view(action="resume"), name="api-rollout-resume"
    ),
    path("rollouts/<int:pk>/advance", rollouts_api.RolloutStageAdvanceApi.as_view(), name="api-rollout-advance"),
    path("versions/<int:pk>/beta-links", beta_api.VersionBetaLinksApi.as_view(), name="api-version-beta-links"),
    path(
        "versions/<int:pk>/beta-links/<int:link_pk>",
        beta_api.VersionBetaLinkDetailApi.as_view(),
        name="api-version-beta-link",
    ),
    path("beta-links/install", beta_api.BetaInstallApi.as_view(), name="api-beta-install"),
    path("testing/versions", testing_api.TestedVersionListApi.as_view(), name="api-tested-versions"),
    path(
        "testing/versions/<int:pk>/install",
        testing_api.TestedVersionInstallApi.as_view(),
        name="api-tested-version-install",
    ),
    path("listings/<str:key>/webhooks", deliveries_api.WebhookEndpointListApi.as_view(), name="api-listing-webhooks"),
    path("webhooks/<int:pk>", deliveries_api.WebhookEndpointDetailApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/rotate-secret",
        deliveries_api.WebhookEndpointActionApi.as_view(action="rotate"),
        name="api-webhook-rotate",
    ),
    path(
        "webhooks/<int:pk>/test",
        deliveries_api.WebhookEndpointActionApi.as_view(action="test"),
        name="api-webhook-test",
    ),
    path("listings/<str:key>/deliveries", deliveries_api.DeliveryListApi.as_view(), name="api-listing-deliveries"),
    path("deliveries/<int:pk>", deliveries_api.DeliveryDetailApi.as_view(), name="api-delivery"),
    path("deliveries/<int:pk>/redeliver", deliveries_api.DeliveryRedeliverApi.as_view(), name="api-delivery-redeliver"),
]

invitation_urlpatterns = [
    path("site/<str:token>/", sites.site_invitation, name="site"),
]
