"""A person's own pages, beside allauth's under /accounts/ (namespace `accounts`)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.tokens, name="tokens"),
    path("notifications/", views.notifications, name="notifications"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
