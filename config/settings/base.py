"""Settings shared by every environment, read from the environment (django-environ).

Every value has a safe embedded default that needs no server: SQLite under
var/, e-mails written to files under var/mail/, and kombu's filesystem
transport under var/celery/ as the Celery broker. Setting DATABASE_URL and
CELERY_BROKER_URL moves the same code to PostgreSQL and Redis.

Safe by default: DEBUG is off unless DJANGO_DEBUG turns it on, and there is no
secret key here (dev.py and test.py give one; production.py requires one).
The modules beside this one: dev.py (`make run`, manage.py's default),
test.py (pytest) and production.py (wsgi's default).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Empty here on purpose: Django refuses to start without one, so only dev.py and
# test.py (which set a throwaway key) or the environment can provide it.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_fsm",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "core",
    "accounts",
    "marketplace",
    "versions",
    "reviews",
    "upgrades",
    "mirror",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.TimeZoneMiddleware",
    "accounts.middleware.AdminSecondFactorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Content-Security-Policy (django-csp) -------------------------------------
# Scripts only from our own origin, never inline (no inline handlers either);
# styles may be inline (style attributes in pages, the admin and Swagger UI).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock at BEGIN, so two concurrent
    # transitions serialise instead of both reading a stale state; WAL lets the
    # web server and the Celery worker read while the other writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# --- Accounts (django-allauth) --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Sign in with the e-mail address (or the user name the demo and older accounts have).
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_FORMS = {"login": "accounts.forms.PortalLoginForm"}
# People may sign in before they verify; acting (a vendor, a site, joining, installing) needs a
# verified address: accounts.permissions.require_verified_email.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = "portal:dashboard"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[App Marketplace] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# allauth's own rate limits (per address / per account), replacing core.throttles on its pages.
ACCOUNT_RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", default="30/m/ip"),
    "login_failed": env.str("RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "signup": env.str("RATE_LIMIT_SIGNUP", default="20/m/ip"),
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "App Marketplace"
MFA_PASSKEY_LOGIN_ENABLED = False
# WebAuthn needs a secure origin; http://127.0.0.1 in development is allowed explicitly.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=False)
# Sessions are recorded at sign-in (device, address, time); tracking every request's activity would
# cost a write per page, so it is off unless the environment turns it on.
USERSESSIONS_TRACK_ACTIVITY = env.bool("USERSESSIONS_TRACK_ACTIVITY", default=False)
# Two-factor authentication required of staff and reviewers before the admin, and of vendor
# members before they publish (accounts.permissions.require_second_factor). On in production.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=False)
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

# --- E-mail -----------------------------------------------------------------
EMAIL_FILE_PATH = VAR_DIR / "mail"
_email = env.email_url("EMAIL_URL", default="filemail://")
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
else:
    vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Marketplace <noreply@marketplace.localhost>")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON (nested too deeply is a 400, not a crash), forms and multipart.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per caller (user, site or mirror token, else IP); rates in API_THROTTLE_RATES below.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttles.AuthenticatedRateThrottle",
        "core.throttles.AnonymousRateThrottle",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "App Marketplace API",
    "DESCRIPTION": "Listings, versions, deploys, installations, upgrade requests and the update check.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from our own static files: the docs work offline and under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "VersionStateEnum": "versions.models.State",
        "SchemeEnum": "versions.schemes.SCHEME_CHOICES",
        "DescriptorSchemeEnum": [("connect", "connect"), ("forge", "forge")],
    },
}

# --- Rate limits (429 with Retry-After) -----------------------------------------
API_THROTTLE_RATES = {
    "authenticated": env.str("API_THROTTLE_AUTHENTICATED", default="1200/minute"),
    "anonymous": env.str("API_THROTTLE_ANONYMOUS", default="60/minute"),
    # Unknown or revoked tokens (user, site, mirror) per address: guessing is refused early.
    "token-failures": env.str("API_THROTTLE_TOKEN_FAILURES", default="20/minute"),
}
PAGE_RATE_LIMITS = {
    # Sign-in, sign-up and password reset: allauth's limits (ACCOUNT_RATE_LIMITS above).
    "consent-link": env.str("RATE_LIMIT_CONSENT_LINK", default="30/minute"),
    "beta-link": env.str("RATE_LIMIT_BETA_LINK", default="30/minute"),
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir = VAR_DIR / "celery" / "broker"
    for _sub in ("broker", "processed", "control"):
        (VAR_DIR / "celery" / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A hard ceiling for every task; the limits and retries tasks run with are core.tasks.PortalTask's (lower).
CELERY_TASK_TIME_LIMIT = 300
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_TIMEZONE = "UTC"
# Queue names live here and nowhere else.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "*.send_*": {"queue": "email"},
    "*.poll_*": {"queue": "polling"},
    "*.rollout_*": {"queue": "rollouts"},
    "*.upgrade_*": {"queue": "rollouts"},
}
CELERY_WORKER_QUEUES = "default,email,polling,rollouts"

# --- Marketplace policy -------------------------------------------------------
DESCRIPTOR_POLL_INTERVAL = timedelta(seconds=env.int("DESCRIPTOR_POLL_INTERVAL", default=5 * 60 * 60))
DESCRIPTOR_ALLOW_LOOPBACK = env.bool("DESCRIPTOR_ALLOW_LOOPBACK", default=False)
DESCRIPTOR_MAX_BYTES = env.int("DESCRIPTOR_MAX_BYTES", default=1024 * 1024)
DESCRIPTOR_CONNECT_TIMEOUT = env.float("DESCRIPTOR_CONNECT_TIMEOUT", default=5.0)
DESCRIPTOR_READ_TIMEOUT = env.float("DESCRIPTOR_READ_TIMEOUT", default=10.0)
PORTAL_BOT_USER_AGENT = env.str("PORTAL_BOT_USER_AGENT", default=f"MarketplacePortalBot/1.0 (+{PORTAL_BASE_URL}/bot)")
UPGRADE_AUTO_WINDOW = timedelta(hours=env.int("UPGRADE_AUTO_WINDOW_HOURS", default=0))
UPGRADE_MAINTENANCE_MAX_DELAY = timedelta(hours=4)
UPGRADE_LINK_MAX_AGE = timedelta(days=env.int("UPGRADE_LINK_MAX_AGE_DAYS", default=14))
UPGRADE_REMINDER_AFTER = timedelta(days=env.int("UPGRADE_REMINDER_AFTER_DAYS", default=3))
ROLLOUT_CHUNK_SIZE = env.int("ROLLOUT_CHUNK_SIZE", default=500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Internal market (mirror app): the feed this portal serves, and the upstream portals it mirrors.
MIRROR_FEED_PAGE_SIZE = env.int("MIRROR_FEED_PAGE_SIZE", default=100)
MIRROR_SYNC_INTERVAL = timedelta(seconds=env.int("MIRROR_SYNC_INTERVAL", default=60 * 60))
MIRROR_MAX_BYTES = env.int("MIRROR_MAX_BYTES", default=5 * 1024 * 1024)  # per feed page
MIRROR_MAX_PAGES = env.int("MIRROR_MAX_PAGES", default=200)
MIRROR_ALLOW_LOOPBACK = env.bool("MIRROR_ALLOW_LOOPBACK", default=DESCRIPTOR_ALLOW_LOOPBACK)
MIRROR_SYNC_HISTORY = timedelta(days=env.int("MIRROR_SYNC_HISTORY_DAYS", default=90))

# --- Beat: every periodic task, in this one block -------------------------------
CELERY_BEAT_SCHEDULE = {
    # A Celery worker checks in; /healthz shows when it last did.
    "worker-heartbeat": {
        "task": "core.tasks.record_heartbeat",
        "schedule": env.float("WORKER_HEARTBEAT_INTERVAL", default=60.0),
    },
    # Apply upgrades whose time came, remind site admins, expire unanswered requests.
    "upgrades-housekeeping": {"task": "upgrades.tasks.upgrade_housekeeping", "schedule": 60.0},
    # Fan out one poll per due connect listing, spread over the interval.
    "versions-poll-due-descriptors": {
        "task": "versions.tasks.poll_due_descriptors",
        "schedule": DESCRIPTOR_POLL_INTERVAL,
    },
    # Sync the upstream portals this portal mirrors.
    "mirror-poll-sources": {"task": "mirror.tasks.poll_mirror_sources", "schedule": MIRROR_SYNC_INTERVAL},
}
