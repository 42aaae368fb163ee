"""The versions app's tables: versions and their transitions, and automatic versions (polls, deploys)."""

from core.errors import ImmutableVersionError
from versions.models.automatic import AutoVersionNotice, Deploy, DescriptorPoll, DescriptorPollState
from versions.models.stages import StagePlan
from versions.models.version import (
    DUPLICABLE_STATES,
    EDIT_RETURNS_TO_DRAFT,
    EDITABLE_STATES,
    FROZEN_STATES,
    IN_REVIEW_QUEUE,
    SNAPSHOT_FIELDS,
    SUBMITTED_STATES,
    WAITING_FOR_REVIEW,
    Pricing,
    Source,
    State,
    Version,
    VersionQuerySet,
    VersionTransition,
)
from versions.models.yanks import VersionYank

__all__ = [
    "DUPLICABLE_STATES",
    "EDITABLE_STATES",
    "EDIT_RETURNS_TO_DRAFT",
    "FROZEN_STATES",
    "IN_REVIEW_QUEUE",
    "SNAPSHOT_FIELDS",
    "SUBMITTED_STATES",
    "WAITING_FOR_REVIEW",
    "AutoVersionNotice",
    "Deploy",
    "DescriptorPoll",
    "DescriptorPollState",
    "ImmutableVersionError",
    "Pricing",
    "Source",
    "StagePlan",
    "State",
    "Version",
    "VersionQuerySet",
    "VersionTransition",
    "VersionYank",
]
