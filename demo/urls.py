"""The demo app's receiver (development only; see demo/views.py)."""

from django.urls import path

from demo import views

urlpatterns = [
    path("demo/apps/<str:key>/<str:event>", views.demo_app_callback, name="demo-app-callback"),
    path("demo/webhooks/<str:key>", views.demo_webhook, name="demo-webhook"),
]
