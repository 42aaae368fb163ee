from django.urls import path

from mirror import api

urlpatterns = [
    path("mirror/listings/", api.MirrorFeedApi.as_view(), name="api-mirror-feed"),
]
