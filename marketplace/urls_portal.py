"""The vendor portal (server-rendered pages), namespace 'portal'."""

from django.urls import path

from marketplace import views
from versions import views as version_views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new-listing/", views.listing_create, name="listing-create"),
    path("listings/<str:key>/", views.listing_detail, name="listing-detail"),
    path("listings/<str:key>/edit/", views.listing_edit, name="listing-edit"),
    path("listings/<str:key>/archive/", views.listing_archive, name="listing-archive"),
    path("listings/<str:key>/unarchive/", views.listing_unarchive, name="listing-unarchive"),
    path("listings/<str:key>/versions/new/", version_views.version_create, name="version-create"),
    path("listings/<str:key>/share/", version_views.bundle_share_view, name="bundle-share"),
    path("versions/check-number", version_views.version_check_number, name="version-check-number"),
    path("versions/preview", version_views.version_preview, name="version-preview"),
    path("versions/<int:pk>/", version_views.version_detail, name="version-detail"),
    path("versions/<int:pk>/edit/", version_views.version_edit, name="version-edit"),
    path("versions/<int:pk>/submit/", version_views.version_submit, name="version-submit"),
    path("versions/<int:pk>/cancel/", version_views.version_cancel, name="version-cancel"),
    path("versions/<int:pk>/publish/", version_views.version_publish, name="version-publish"),
    path("versions/<int:pk>/duplicate/", version_views.version_duplicate, name="version-duplicate"),
]

# Automatic versions (issue 5): poll history and "Poll now" of a connect listing.
from versions import views_polling  # noqa: E402

urlpatterns += [
    path("listings/<str:key>/polls/", views_polling.listing_polls, name="listing-polls"),
    path("listings/<str:key>/poll-now/", views_polling.listing_poll_now, name="listing-poll-now"),
]

# OCP beta share links: made and revoked on the beta version's page (upgrades app services).
urlpatterns += [
    path("versions/<int:pk>/beta-links/", version_views.version_beta_link_create, name="version-beta-link-create"),
    path(
        "versions/<int:pk>/beta-links/<int:link_pk>/revoke/",
        version_views.version_beta_link_revoke,
        name="version-beta-link-revoke",
    ),
]
