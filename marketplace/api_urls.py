from django.urls import path

from marketplace import api

urlpatterns = [
    path("listings/", api.ListingListCreateApi.as_view(), name="api-listing-list"),
    path("listings/<str:key>/", api.ListingDetailApi.as_view(), name="api-listing-detail"),
]
