"""Pages of the upgrades app, namespace 'upgrades' (mounted at /upgrades/)."""

from django.urls import path

from upgrades import views

urlpatterns = [
    path("", views.site_list, name="sites"),
    path("sites/<int:pk>/", views.site_detail, name="site"),
    path("sites/<int:pk>/settings/", views.site_settings, name="site-settings"),
    path(
        "sites/<int:site_pk>/installations/<int:pk>/upgrade/", views.installation_upgrade, name="installation-upgrade"
    ),
    path("sites/<int:pk>/migrate/", views.site_migrate, name="site-migrate"),
    path("sites/<int:site_pk>/migrations/<int:pk>/", views.migration_detail, name="migration"),
    path(
        "sites/<int:site_pk>/migration-offers/<int:pk>/accept/",
        views.migration_offer_accept,
        name="migration-offer-accept",
    ),
    path(
        "sites/<int:site_pk>/migration-offers/<int:pk>/keep/",
        views.migration_offer_keep,
        name="migration-offer-keep",
    ),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("consent/<int:request_id>/<str:token>/", views.consent, name="consent"),
    path("listings/<str:key>/rollouts/", views.listing_rollouts, name="listing-rollouts"),
    path("rollouts/<int:pk>/halt/", views.rollout_control, {"action": "halt"}, name="rollout-halt"),
    path("rollouts/<int:pk>/resume/", views.rollout_control, {"action": "resume"}, name="rollout-resume"),
]

# OCP beta share links (DESIGN.md section 5): the page a vendor's signed link opens.
from upgrades import views_beta  # noqa: E402

urlpatterns += [path("beta/<str:token>/", views_beta.beta_link, name="beta-link")]
