from django.urls import path

from versions import api

urlpatterns = [
    path("versions/", api.VersionListCreateApi.as_view(), name="api-version-list"),
    path("versions/<int:pk>/", api.VersionDetailApi.as_view(), name="api-version-detail"),
    path("versions/<int:pk>/history/", api.VersionHistoryApi.as_view(), name="api-version-history"),
    path("versions/<int:pk>/duplicate/", api.VersionDuplicateApi.as_view(), name="api-version-duplicate"),
]
urlpatterns += [
    path(f"versions/<int:pk>/{name}/", api.VersionTransitionApi.as_view(transition=name), name=f"api-version-{name}")
    for name in api.VENDOR_TRANSITIONS
]

# Automatic versions (issue 5): the descriptor pre-flight and forge deploys (trailing slash optional).
from django.urls import re_path  # noqa: E402

from versions import api_automatic  # noqa: E402

urlpatterns += [
    re_path(r"^descriptors/diff/?$", api_automatic.DescriptorDiffApi.as_view(), name="api-descriptor-diff"),
    re_path(
        r"^listings/(?P<key>[a-z][a-z0-9-]{1,62})/deploys/?$",
        api_automatic.DeployCreateApi.as_view(),
        name="api-listing-deploys",
    ),
]
urlpatterns += [
    re_path(
        r"^listings/(?P<key>[a-z][a-z0-9-]{1,62})/shares/?$",
        api_automatic.BundleShareApi.as_view(),
        name="api-listing-shares",
    ),
]
