"""A URLconf for the error-page tests: views that fail in each way (404, 403 and 500 pages)."""

from django.core.exceptions import PermissionDenied
from django.urls import include, path

from config import urls as project_urls


def refuse(request):
    raise PermissionDenied


def fail(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("test-errors/refuse/", refuse),
    path("test-errors/fail/", fail),
    path("", include(project_urls.urlpatterns)),
]
