"""The project's URLs: each app's own urls module, mounted here and nowhere else.

The vendor portal (namespace `portal`) is made of the versions app's pages and
the upgrades app's vendor buttons (beta links); the API (/api/v1/) of every
app's `api_urlpatterns`, in one style: no trailing slash.
"""

from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from core import views as core_views
from demo import urls as demo_urls
from marketplace import urls as marketplace_urls
from mirror import urls as mirror_urls
from reviews import urls as reviews_urls
from reviews.admin import reviewer_landing
from storefront import urls as storefront_urls
from upgrades import urls as upgrades_urls
from versions import urls as versions_urls

api_v1 = [
    *marketplace_urls.api_urlpatterns,
    *versions_urls.api_urlpatterns,
    *upgrades_urls.api_urlpatterns,
    *mirror_urls.api_urlpatterns,
    *storefront_urls.api_urlpatterns,
    *reviews_urls.api_urlpatterns,
]
portal = [
    *versions_urls.portal_urlpatterns,
    *marketplace_urls.portal_urlpatterns,
    *upgrades_urls.portal_urlpatterns,
    *reviews_urls.portal_urlpatterns,
]
# allauth's rate limits answer with the portal's "too many attempts" page.
handler429 = core_views.rate_limited
# The admin's sign-in is allauth's (rate limits, two-factor): never a second door around them.
admin.site.login = secure_admin_login(admin.site.login)
# The reviewers' workspace: branded, and reviewers land on the review queue.
admin.site.site_header = "App Marketplace · Review"
admin.site.site_title = "App Marketplace review"
admin.site.index_title = "Marketplace administration"
admin.site.index = reviewer_landing(admin.site.index)

urlpatterns = [
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    # django-allauth: sign-up, sign-in (rate limited by allauth), e-mail addresses, password
    # reset, two-factor authentication, sessions; beside it the profile and API tokens pages.
    path("accounts/", include((accounts_urls.urlpatterns, "accounts"))),
    path("accounts/", include("allauth.urls")),
    # The names Django's auth URLs had ("login", "logout"), for code that still reverses them.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    path(
        "invitations/",
        include((marketplace_urls.invitation_urlpatterns + upgrades_urls.invitation_urlpatterns, "invitations")),
    ),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # ReDoc from drf-spectacular-sidecar's static files, in a page without inline script or web fonts (CSP,
    # offline); its search runs in a web worker it makes from a blob: URL, allowed on this page only.
    path(
        "api/redoc/",
        csp_update({"worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("portal/", include((portal, "portal"))),
    path("upgrades/", include((upgrades_urls.urlpatterns, "upgrades"))),
    path("apps/", include((storefront_urls.urlpatterns, "storefront"))),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    *versions_urls.demo_urlpatterns,
    *demo_urls.urlpatterns,
]

if settings.DEBUG:
    # Uploaded icons and screenshots in development (production serves MEDIA_ROOT from the web server).
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
