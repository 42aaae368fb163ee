"""API tokens that are stored only as a digest (site tokens, mirror tokens).

The raw token is shown once, when it is made; the database keeps its SHA-256
digest and the first characters (so people can tell tokens apart). Looking a
token up hashes what the client sent and matches the digest.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.request import Request

from core.throttles import token_failure_record, token_failures_check

PREFIX_LENGTH = 8
T = TypeVar("T", bound="HashedToken")


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class HashedToken(models.Model):
    prefix = models.CharField(max_length=8, help_text="First characters of the token, to recognise it")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @classmethod
    def issue(cls: type[T], **fields: Any) -> tuple[T, str]:
        """A new token row and the raw token (returned once, never stored)."""
        raw = secrets.token_urlsafe(32)
        token = cls.objects.create(prefix=raw[:PREFIX_LENGTH], digest=token_digest(raw), **fields)
        return token, raw

    @classmethod
    def active(cls: type[T], raw: str) -> models.QuerySet[T]:
        """The unrevoked token matching what a client sent (an empty queryset when none does)."""
        return cls.objects.filter(digest=token_digest(raw), revoked_at__isnull=True)

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class HashedTokenAuthentication(BaseAuthentication):
    """`Authorization: <keyword> <token>` for a HashedToken kind; subclasses name the keyword and the lookup.

    The request acts as an anonymous user whose `request.auth` is what the
    token stands for (a site, a mirror token): never as a person.
    """

    keyword = ""

    def lookup(self, raw: str) -> Any | None:
        """What the unrevoked token stands for, or None."""
        raise NotImplementedError

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                f"{self.keyword} token header: write 'Authorization: {self.keyword} <token>'."
            )
        token_failures_check(request)
        found = self.lookup(parts[1].decode(errors="replace"))
        if found is None:
            token_failure_record(request)
            raise exceptions.AuthenticationFailed(f"Unknown or revoked {self.keyword.lower()} token.")
        return AnonymousUser(), found

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class UserTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>` for people, with the same throttle on guessed keys."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if get_authorization_header(request).split()[:1] == [self.keyword.encode()]:
            token_failures_check(request)
            try:
                return super().authenticate(request)
            except exceptions.AuthenticationFailed:
                token_failure_record(request)
                raise
        return super().authenticate(request)
