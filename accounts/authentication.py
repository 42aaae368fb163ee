"""`Authorization: Token <token>` for people.

Self-service tokens (accounts.UserToken) are stored as a digest only and note
when they were last used. Keys made in the admin before (DRF's authtoken, 40
hex characters kept in plain text) still work until their owners replace them:
the two kinds never collide, so a key is looked up once, in one table.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from accounts.selectors import user_for_token
from accounts.services import user_token_touch
from core.throttles import token_failure_record, token_failures_check
from core.tokens import UserTokenAuthentication

LEGACY_KEY = re.compile(r"^[0-9a-f]{40}$")


class PersonalTokenAuthentication(UserTokenAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0] != self.keyword.encode():
            return super().authenticate(request)
        raw = parts[1].decode(errors="replace")
        if LEGACY_KEY.match(raw):
            return super().authenticate(request)
        token_failures_check(request)
        token = user_for_token(raw)
        if token is None:
            token_failure_record(request)
            raise exceptions.AuthenticationFailed("Unknown or revoked token: make a new one on your API tokens page.")
        user_token_touch(token=token)
        return token.user, token
