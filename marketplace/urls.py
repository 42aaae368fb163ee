"""The catalogue's API, its onboarding pages in the vendor portal, and the invitation links."""

from django.urls import path

from marketplace import api, views

api_urlpatterns = [
    path("listings", api.ListingListCreateApi.as_view(), name="api-listing-list"),
    path("listings/<str:key>", api.ListingDetailApi.as_view(), name="api-listing-detail"),
]

portal_urlpatterns = [
    path("vendors/new/", views.vendor_create, name="vendor-create"),
    path("vendors/<slug:slug>/team/", views.vendor_team, name="vendor-team"),
    path("vendors/<slug:slug>/invitations/", views.vendor_invite, name="vendor-invite"),
    path(
        "vendors/<slug:slug>/invitations/<int:pk>/revoke/",
        views.vendor_invitation_revoke,
        name="vendor-invitation-revoke",
    ),
    path("vendors/<slug:slug>/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("vendors/<slug:slug>/members/<int:pk>/remove/", views.member_remove, name="member-remove"),
]

invitation_urlpatterns = [
    path("vendor/<str:token>/", views.vendor_invitation, name="vendor"),
]
