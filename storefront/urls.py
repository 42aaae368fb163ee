"""The storefront's URLs: its pages (namespace `storefront`, mounted at /apps/) and its API
(no trailing slash, the project's one API style)."""

from django.urls import path

from storefront import api, views

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    # Before <key>/: this route wins over a listing keyed "invitation".
    path("invitation/", views.invitation_redeem, name="invitation"),
    path("<str:key>/", views.listing_detail, name="listing"),
    path("<str:key>/install/", views.listing_install, name="install"),
]

api_urlpatterns = [
    path("apps", api.AppListApi.as_view(), name="api-apps"),
    path("apps/<str:key>", api.AppDetailApi.as_view(), name="api-app"),
]
