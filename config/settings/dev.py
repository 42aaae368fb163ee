"""A developer's machine (`make run`, manage.py's default): the embedded defaults of base.py.

DEBUG still comes from the environment (`make run` sets DJANGO_DEBUG=on); what
this module adds is a throwaway secret key, so a fresh clone starts without
any configuration. Never use these settings on a server.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-do-not-use-in-production")
# WebAuthn (security keys) on http://127.0.0.1 during development.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=True)
