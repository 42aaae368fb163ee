"""Settings for the test suite: the shared settings, with test doubles only where a
test asks for them (integration tests switch to the real broker and SMTP)."""

import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-test-key")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
# Integration tests hand a real SMTP server to the worker process through EMAIL_URL.
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DESCRIPTOR_ALLOW_LOOPBACK = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MIRROR_ALLOW_LOOPBACK = True
# The suite makes many requests from one address; tests of the limits set their own rates.
API_THROTTLE_RATES = {"authenticated": "100000/minute", "anonymous": "100000/minute", "token-failures": "100000/minute"}
PAGE_RATE_LIMITS = {
    "sign-in": "100000/minute",
    "consent-link": "100000/minute",
    "beta-link": "100000/minute",
    "invitation": "100000/minute",
}
# allauth's limits are tested with their own rates; the suite signs in many times from one address.
ACCOUNT_RATE_LIMITS = False
# Uploaded images in tests go to a throw-away directory, never to the checkout's var/.
MEDIA_ROOT = Path(tempfile.gettempdir()) / "marketplace-test-media"
