"""Digest-only API tokens (site and mirror tokens share this)."""

import pytest

from core.tokens import token_digest
from mirror.models import MirrorToken
from tests.factories import SiteFactory
from upgrades.models import SiteToken

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [SiteToken, MirrorToken])
def test_only_the_digest_is_stored_and_revoked_tokens_stop_working(model):
    fields = {"site": SiteFactory()} if model is SiteToken else {"name": "downstream"}
    token, raw = model.issue(**fields)
    assert token.digest == token_digest(raw) and raw not in {token.digest, token.prefix}
    assert token.prefix == raw[:8] and len(raw) >= 40
    assert model.active(raw).get() == token
    assert not model.active(raw + "x").exists()
    token.revoke()
    assert not model.active(raw).exists()
