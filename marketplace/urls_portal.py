"""The vendor portal (server-rendered pages), namespace 'portal'."""

from django.urls import path

from marketplace import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]

# Automatic versions (issue 5): poll history and "Poll now" of a connect listing.
from versions import views_polling  # noqa: E402

urlpatterns += [
    path("listings/<str:key>/polls/", views_polling.listing_polls, name="listing-polls"),
    path("listings/<str:key>/poll-now/", views_polling.listing_poll_now, name="listing-poll-now"),
]
