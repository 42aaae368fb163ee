"""The reviews app's URLs outside the admin: the vendor's reply (portal) and the API."""

from django.urls import path

from reviews import api, views

portal_urlpatterns = [
    path("versions/<int:pk>/reply/", views.version_reply, name="version-reply"),
]

api_urlpatterns = [
    path("versions/<int:pk>/messages", api.VersionMessagesApi.as_view(), name="api-version-messages"),
    path("reviews/metrics", api.ReviewMetricsApi.as_view(), name="api-review-metrics"),
]
