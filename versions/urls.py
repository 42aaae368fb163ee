"""The versions app's URLs: the vendor portal's pages (namespace `portal`), the API, and the demo descriptor."""

from django.urls import path

from versions import api
from versions.api import release_controls as release_api
from versions.views import automatic, listings, release_controls, releases
from versions.views import versions as version_views

portal_urlpatterns = [
    path("", listings.dashboard, name="dashboard"),
    path("new-listing/", listings.listing_create, name="listing-create"),
    path("listings/<str:key>/", listings.listing_detail, name="listing-detail"),
    path("listings/<str:key>/edit/", listings.listing_edit, name="listing-edit"),
    path("listings/<str:key>/archive/", listings.listing_archive, name="listing-archive"),
    path("listings/<str:key>/invitations/", listings.listing_invitation_create, name="listing-invitation-create"),
    path(
        "listings/<str:key>/invitations/<int:pk>/revoke/",
        listings.listing_invitation_revoke,
        name="listing-invitation-revoke",
    ),
    path("listings/<str:key>/screenshots/", listings.listing_screenshot_change, name="listing-screenshot-change"),
    path("listings/<str:key>/unarchive/", listings.listing_unarchive, name="listing-unarchive"),
    path("listings/<str:key>/versions/new/", version_views.version_create, name="version-create"),
    path("listings/<str:key>/share/", version_views.bundle_share_view, name="bundle-share"),
    path("listings/<str:key>/polls/", automatic.listing_polls, name="listing-polls"),
    path("listings/<str:key>/poll-now/", automatic.listing_poll_now, name="listing-poll-now"),
    path("listings/<str:key>/polls/live", automatic.listing_polls_live, name="listing-polls-live"),
    path("versions/check-number", version_views.version_check_number, name="version-check-number"),
    path("versions/preview", version_views.version_preview, name="version-preview"),
    path("versions/<int:pk>/", version_views.version_detail, name="version-detail"),
    path("versions/<int:pk>/edit/", version_views.version_edit, name="version-edit"),
    path("versions/<int:pk>/submit/", version_views.version_submit, name="version-submit"),
    path("versions/<int:pk>/cancel/", version_views.version_cancel, name="version-cancel"),
    path("versions/<int:pk>/withdraw/", version_views.version_withdraw, name="version-withdraw"),
    path("versions/<int:pk>/publish/", version_views.version_publish, name="version-publish"),
    path("versions/<int:pk>/duplicate/", version_views.version_duplicate, name="version-duplicate"),
    # Release controls (issue #16): publish in stages, yank, un-yank.
    path(
        "versions/<int:pk>/publish-in-stages/", release_controls.version_publish_staged, name="version-publish-staged"
    ),
    path("versions/<int:pk>/yank/", release_controls.version_yank_view, name="version-yank"),
    path("versions/<int:pk>/unyank/", release_controls.version_unyank_view, name="version-unyank"),
    # Release controls (issue #16): re-release an older version; schedule an approved one.
    path("versions/<int:pk>/rerelease/", releases.version_rerelease, name="version-rerelease"),
    path("versions/<int:pk>/schedule/", releases.version_schedule, name="version-schedule"),
    path("versions/<int:pk>/unschedule/", releases.version_unschedule, name="version-unschedule"),
]

api_urlpatterns = [
    path("versions", api.VersionListCreateApi.as_view(), name="api-version-list"),
    path("versions/<int:pk>", api.VersionDetailApi.as_view(), name="api-version-detail"),
    path("versions/<int:pk>/history", api.VersionHistoryApi.as_view(), name="api-version-history"),
    path("versions/<int:pk>/duplicate", api.VersionDuplicateApi.as_view(), name="api-version-duplicate"),
    path("versions/<int:pk>/rerelease", api.VersionRereleaseApi.as_view(), name="api-version-rerelease"),
    path("versions/<int:pk>/schedule", api.VersionScheduleApi.as_view(), name="api-version-schedule"),
    *[
        path(f"versions/<int:pk>/{name}", api.VersionTransitionApi.as_view(transition=name), name=f"api-version-{name}")
        for name in api.VENDOR_TRANSITIONS
    ],
    # Release controls (issue #16).
    path(
        "versions/<int:pk>/publish-in-stages",
        release_api.VersionPublishInStagesApi.as_view(),
        name="api-version-publish-staged",
    ),
    path("versions/<int:pk>/yank", release_api.VersionYankApi.as_view(), name="api-version-yank"),
    path("versions/<int:pk>/unyank", release_api.VersionUnyankApi.as_view(), name="api-version-unyank"),
    # Automatic versions: the descriptor pre-flight, forge deploys, and bundle app-group shares.
    path("descriptors/diff", api.DescriptorDiffApi.as_view(), name="api-descriptor-diff"),
    path("listings/<slug:key>/deploys", api.DeployCreateApi.as_view(), name="api-listing-deploys"),
    path("listings/<slug:key>/shares", api.BundleShareApi.as_view(), name="api-listing-shares"),
]

# Development only (DEBUG and DESCRIPTOR_ALLOW_LOOPBACK): the demo connect listing's descriptor.
demo_urlpatterns = [
    path("demo/descriptors/<str:key>.json", automatic.demo_descriptor, name="demo-descriptor"),
]
