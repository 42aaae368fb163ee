"""The mirror feed a downstream portal reads (API only)."""

from django.urls import path

from mirror import api

api_urlpatterns = [
    path("mirror/listings", api.MirrorFeedApi.as_view(), name="api-mirror-feed"),
]
