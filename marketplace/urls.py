"""The catalogue's API (its pages are the vendor portal's, in versions.urls)."""

from django.urls import path

from marketplace import api

api_urlpatterns = [
    path("listings", api.ListingListCreateApi.as_view(), name="api-listing-list"),
    path("listings/<str:key>", api.ListingDetailApi.as_view(), name="api-listing-detail"),
]
