"""The project's URLs: each app's own urls module, mounted here and nowhere else.

The vendor portal (namespace `portal`) is made of the versions app's pages and
the upgrades app's vendor buttons (beta links); the API (/api/v1/) of every
app's `api_urlpatterns`, in one style: no trailing slash.
"""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from core.throttles import page_rate_limit
from demo import urls as demo_urls
from marketplace import urls as marketplace_urls
from mirror import urls as mirror_urls
from storefront import urls as storefront_urls
from upgrades import urls as upgrades_urls
from versions import urls as versions_urls

api_v1 = [
    *marketplace_urls.api_urlpatterns,
    *versions_urls.api_urlpatterns,
    *upgrades_urls.api_urlpatterns,
    *mirror_urls.api_urlpatterns,
    *storefront_urls.api_urlpatterns,
]
portal = [*versions_urls.portal_urlpatterns, *upgrades_urls.portal_urlpatterns]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/login/", page_rate_limit("sign-in")(admin.site.login)),  # reviewers sign in here
    path("admin/", admin.site.urls),
    # Sign-in is rate limited per address; the rest of Django's auth views as they are.
    path("accounts/login/", page_rate_limit("sign-in")(auth_views.LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("portal/", include((portal, "portal"))),
    path("upgrades/", include((upgrades_urls.urlpatterns, "upgrades"))),
    path("apps/", include((storefront_urls.urlpatterns, "storefront"))),
    path("healthz", core_views.healthz, name="healthz"),
    *versions_urls.demo_urlpatterns,
    *demo_urls.urlpatterns,
]

if settings.DEBUG:
    # Uploaded icons and screenshots in development (production serves MEDIA_ROOT from the web server).
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
