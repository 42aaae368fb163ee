"""The versions API by subject: versions and their lifecycle; automatic versions (diff, deploys, shares)."""

from versions.api.automatic import BundleShareApi, DeployCreateApi, DescriptorDiffApi
from versions.api.releases import VersionRereleaseApi, VersionScheduleApi
from versions.api.versions import (
    VENDOR_TRANSITIONS,
    VersionDetailApi,
    VersionDuplicateApi,
    VersionHistoryApi,
    VersionListCreateApi,
    VersionTransitionApi,
)

__all__ = [
    "VENDOR_TRANSITIONS",
    "BundleShareApi",
    "DeployCreateApi",
    "DescriptorDiffApi",
    "VersionDetailApi",
    "VersionDuplicateApi",
    "VersionHistoryApi",
    "VersionListCreateApi",
    "VersionRereleaseApi",
    "VersionScheduleApi",
    "VersionTransitionApi",
]
