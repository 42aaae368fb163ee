"""Production (wsgi's default): DEBUG off, a secret key required, HTTPS everywhere.

Every security setting reads the environment with a strict default, so
`manage.py check --deploy` is clean with the production example in
`.env.example`; behind a proxy that terminates TLS, set
DJANGO_SECURE_PROXY_SSL_HEADER=on.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # required: ImproperlyConfigured when missing
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# A load balancer asks each web process over plain HTTP: its probes are answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("DJANGO_SECURE_REFERRER_POLICY", default="same-origin")
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Two-factor authentication for staff, reviewers and publishing vendors (base.py: MFA_REQUIRED).
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=True)

# The cache counts the rate limits (the API's throttles, allauth's sign-in limits), so every web
# process on every machine must share it: Redis, CACHE_URL (e.g. redis://redis.internal:6379/1),
# or else the broker's Redis server under the key prefix "cache".
_broker_url = env.str("CELERY_BROKER_URL", default="")
if env.str("CACHE_URL", default="") or _broker_url.startswith(("redis://", "rediss://")):
    CACHES = {"default": {**env.cache_url("CACHE_URL", default=_broker_url), "KEY_PREFIX": "cache"}}
    if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        CACHES["default"]["BACKEND"] = "core.cache.RedisCache"  # Django's, keeping its clients (core/cache.py)
