from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from marketplace import health, views

api_v1 = [
    path("", include("marketplace.api_urls")),
    path("", include("versions.api_urls")),
    path("", include("upgrades.api_urls")),
    path("", include("mirror.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("portal/", include(("marketplace.urls_portal", "portal"))),
    path("upgrades/", include(("upgrades.urls", "upgrades"))),
    path("healthz", health.healthz, name="healthz"),
]

# Development only (DEBUG and DESCRIPTOR_ALLOW_LOOPBACK): the demo connect listing's descriptor.
from versions import views_polling  # noqa: E402

urlpatterns += [path("demo/descriptors/<str:key>.json", views_polling.demo_descriptor, name="demo-descriptor")]
