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
