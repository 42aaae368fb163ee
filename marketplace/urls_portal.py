"""The vendor portal (server-rendered pages), namespace 'portal'."""

from django.urls import path

from marketplace import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
