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
from django.core.exceptions import ImproperlyConfigured

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
    "storefront",
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
    "core.middleware.ApiNotFoundMiddleware",
    "core.middleware.RowIdRangeMiddleware",
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
            # `when` (times with their zone) and the error summary's links, on every page.
            "builtins": ["core.templatetags.portal_format"],
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

# The update check's statements are prepared once per database connection (core/db.py). Off
# behind a pooler in transaction mode that cannot carry prepared statements (PgBouncer < 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format everywhere (config/formats/en/formats.py): 2026-11-28 05:31 UTC.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded images (listing icons and screenshots); served by Django only when DEBUG is on.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

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
# Absolute links (e-mails, share links, the demo descriptor, what seed_demo prints) follow the
# server's HOST and PORT (the variables `make run` uses) unless PORTAL_BASE_URL names the public URL.
PORTAL_BASE_URL = env.str(
    "PORTAL_BASE_URL",
    default=f"http://{env.str('HOST', default='127.0.0.1')}:{env.int('PORT', default=8000)}",
).rstrip("/")

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
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
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
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.schema.document_unauthenticated"],
    "ENUM_NAME_OVERRIDES": {
        "VersionStateEnum": "versions.models.State",
        "SchemeEnum": "versions.schemes.SCHEME_CHOICES",
        "DescriptorSchemeEnum": [("connect", "connect"), ("forge", "forge")],
        # Prices and licences are the same two words everywhere.
        "PricingEnum": "versions.models.Pricing",
        "InstallationStateEnum": "upgrades.models.InstallationState",
        "UpgradeStateEnum": "upgrades.models.UpgradeState",
        "UpgradeRequestStateEnum": "upgrades.models.RequestState",
        "RolloutStateEnum": "upgrades.models.RolloutState",
        "MigrationOfferStateEnum": "upgrades.models.OfferState",
        "DeliveryStateEnum": "upgrades.models.DeliveryState",
        "ReviewMessageKindEnum": "reviews.models.ReviewMessage.Kind",
        # The deliveries kept the name they had before a second "kind" (review messages) appeared.
        "KindEnum": "upgrades.models.DeliveryKind",
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
    # Guessing private apps' invitation codes: a few tries per address.
    "invitation": env.str("RATE_LIMIT_INVITATION", default="20/minute"),
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
# Beat keeps its schedule here whatever the broker (it cannot start without a writable folder).
(VAR_DIR / "celery").mkdir(parents=True, exist_ok=True)
if CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # A message taken by a worker that dies unacknowledged (acks_late) goes back to the queue after
    # the visibility timeout. It must outlast the longest task (CELERY_TASK_TIME_LIMIT, 300 s), or a
    # task still running would be handed to a second worker; 360 s is a margin of a minute. It is
    # no longer what recovery waits for: rollout progress and e-mails live in the database, and beat
    # restarts a stalled rollout within ROLLOUT_STALL_AFTER + ROLLOUT_WATCH_INTERVAL and re-sends
    # an expired e-mail claim within OUTBOX_CLAIM_TIMEOUT + OUTBOX_SEND_INTERVAL.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=360)}
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
# A task whose worker process dies goes back to the queue (every portal task is idempotent;
# core.tasks.PortalTask). A worker that loses the broker stops what it runs, since the broker
# hands those unacknowledged messages out again.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
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
# `make serve` (scripts/serve.sh) starts one worker per group: groups apart by spaces, a group's
# queues by commas. One per queue by default, so a 100,000-installation rollout never delays an
# e-mail or a descriptor poll; a small machine may join them ("default,email polling,rollouts").
WORKER_QUEUE_GROUPS = env.str("WORKER_QUEUE_GROUPS", default="default email polling rollouts").split()
_grouped = [queue for group in WORKER_QUEUE_GROUPS for queue in group.split(",")]
if sorted(_grouped) != sorted(CELERY_WORKER_QUEUES.split(",")):
    raise ImproperlyConfigured(
        f"WORKER_QUEUE_GROUPS must name each queue ({CELERY_WORKER_QUEUES}) exactly once; it names {','.join(_grouped)}."
    )

# --- Marketplace policy -------------------------------------------------------
# A connect listing's descriptor is polled at most this far apart (the seed's "every 5 hours").
# Each listing keeps its own next-poll time; beat dispatches what is due every
# DESCRIPTOR_POLL_DISPATCH_EVERY, and a poll is scheduled early enough that waiting for the next
# tick, the spread inside the tick and up to DESCRIPTOR_POLL_QUEUE_ALLOWANCE of queue delay
# still keep the gap within the interval (versions.services.automatic.poll_cadence).
DESCRIPTOR_POLL_INTERVAL = timedelta(seconds=env.int("DESCRIPTOR_POLL_INTERVAL", default=5 * 60 * 60))
DESCRIPTOR_POLL_DISPATCH_EVERY = timedelta(seconds=env.int("DESCRIPTOR_POLL_DISPATCH_EVERY", default=5 * 60))
DESCRIPTOR_POLL_QUEUE_ALLOWANCE = timedelta(seconds=env.int("DESCRIPTOR_POLL_QUEUE_ALLOWANCE", default=20 * 60))
DESCRIPTOR_ALLOW_LOOPBACK = env.bool("DESCRIPTOR_ALLOW_LOOPBACK", default=False)
DESCRIPTOR_MAX_BYTES = env.int("DESCRIPTOR_MAX_BYTES", default=1024 * 1024)
DESCRIPTOR_CONNECT_TIMEOUT = env.float("DESCRIPTOR_CONNECT_TIMEOUT", default=5.0)
DESCRIPTOR_READ_TIMEOUT = env.float("DESCRIPTOR_READ_TIMEOUT", default=10.0)
# Vendors find the portal's polls in their access logs by the token `Marketplacebot` (the connect
# seed tells them to search for it), so an override that drops it gets it put back in front.
PORTAL_BOT_USER_AGENT = env.str("PORTAL_BOT_USER_AGENT", default=f"Marketplacebot/1.0 (+{PORTAL_BASE_URL})")
if "Marketplacebot" not in PORTAL_BOT_USER_AGENT:
    PORTAL_BOT_USER_AGENT = f"Marketplacebot/1.0 {PORTAL_BOT_USER_AGENT}".strip()
UPGRADE_AUTO_WINDOW = timedelta(hours=env.int("UPGRADE_AUTO_WINDOW_HOURS", default=0))
UPGRADE_MAINTENANCE_MAX_DELAY = timedelta(hours=4)
UPGRADE_LINK_MAX_AGE = timedelta(days=env.int("UPGRADE_LINK_MAX_AGE_DAYS", default=14))
UPGRADE_REMINDER_AFTER = timedelta(days=env.int("UPGRADE_REMINDER_AFTER_DAYS", default=3))
# Installations a rollout chunk looks at (one transaction; a fixed number of statements whatever the size).
ROLLOUT_CHUNK_SIZE = env.int("ROLLOUT_CHUNK_SIZE", default=5000)
# Due upgrades applied per transaction (set-based: a fixed number of statements per batch).
UPGRADE_APPLY_BATCH_SIZE = env.int("UPGRADE_APPLY_BATCH_SIZE", default=10000)
# How long one upgrade_apply_due task goes on applying batches before it hands over to a new message.
UPGRADE_APPLY_SECONDS = env.float("UPGRADE_APPLY_SECONDS", default=60.0)
# Threads of one worker applying due batches at once (PostgreSQL; each its own connection and batches).
UPGRADE_APPLIERS = env.int("UPGRADE_APPLIERS", default=2)
# The update check's Cache-Control max-age: how often a customer instance should ask again. It
# sends If-None-Match with the ETag it got and an unchanged answer costs a 304 (one query).
UPDATE_CHECK_MAX_AGE = env.int("UPDATE_CHECK_MAX_AGE", default=3600)
# A running rollout that has not moved for this long lost its next message: beat restarts it.
# Longer than a chunk takes (about a second at 500 installations), short enough to recover soon.
ROLLOUT_STALL_AFTER = timedelta(seconds=env.int("ROLLOUT_STALL_AFTER", default=30))
ROLLOUT_WATCH_INTERVAL = env.float("ROLLOUT_WATCH_INTERVAL", default=15.0)
# A version published this recently without a rollout lost its start message: beat starts it.
ROLLOUT_START_LOOKBACK = timedelta(hours=env.int("ROLLOUT_START_LOOKBACK_HOURS", default=24))
UPGRADE_HOUSEKEEPING_INTERVAL = env.float("UPGRADE_HOUSEKEEPING_INTERVAL", default=60.0)
# The e-mail outbox (upgrades.emails): rows per batch (one SMTP connection each), how long a
# sender's claim holds (longer than a batch takes to send), tries before a refused message is
# given up, how long one task sends before handing over to a fresh one, and beat's sweep.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=200)
OUTBOX_CLAIM_TIMEOUT = timedelta(seconds=env.int("OUTBOX_CLAIM_TIMEOUT", default=60))
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=5)
OUTBOX_DRAIN_SECONDS = env.float("OUTBOX_DRAIN_SECONDS", default=60.0)
# Sender threads of one worker draining the outbox at once (PostgreSQL; each its own SMTP connection).
OUTBOX_SENDERS = env.int("OUTBOX_SENDERS", default=4)
OUTBOX_SEND_INTERVAL = env.float("OUTBOX_SEND_INTERVAL", default=30.0)
# Callbacks to vendors' apps and vendor webhooks (upgrades.services.deliveries): 6 attempts,
# 2, 4, 8, 16, 32 minutes apart (about an hour, each +-20 %), each call within the fetcher's limits.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=6)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=120.0)
DELIVERY_CONNECT_TIMEOUT = env.float("DELIVERY_CONNECT_TIMEOUT", default=5.0)
DELIVERY_READ_TIMEOUT = env.float("DELIVERY_READ_TIMEOUT", default=10.0)
DELIVERY_MAX_RESPONSE_BYTES = env.int("DELIVERY_MAX_RESPONSE_BYTES", default=64 * 1024)
# How long a worker holds a delivery it is calling (longer than one call's overall deadline).
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=120)
# `make seed` turns it on: a demo listing calls the demo app the portal serves itself (demo/callbacks.py).
DEMO_CALLBACKS = env.bool("DEMO_CALLBACKS", default=False)
# The `iss` claim of lifecycle JWTs.
DELIVERY_JWT_ISSUER = env.str("DELIVERY_JWT_ISSUER", default="marketplace-portal")
# After a rotation the previous webhook secret keeps signing this long.
WEBHOOK_SECRET_OVERLAP = timedelta(hours=env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24))

# LOG_FORMAT=json: one JSON object per line (core.logging.JsonFormatter) from Django, gunicorn
# (gunicorn.conf.py) and Celery (config/celery.py), each request's lines with its X-Request-ID.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", **({"formatter": "json"} if LOG_FORMAT == "json" else {})}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
if LOG_FORMAT == "json":
    MIDDLEWARE.insert(0, "core.middleware.RequestIdMiddleware")
# /readyz: the worker heartbeat (beat -> broker -> a worker -> the database) counts as fresh this
# long; a little over two missed beats of WORKER_HEARTBEAT_INTERVAL (the beat schedule below).
WORKER_HEARTBEAT_MAX_AGE = timedelta(
    seconds=env.float("WORKER_HEARTBEAT_MAX_AGE", default=2.5 * env.float("WORKER_HEARTBEAT_INTERVAL", default=60.0))
)
READYZ_BROKER_TIMEOUT = env.float("READYZ_BROKER_TIMEOUT", default=2.0)

# Internal market (mirror app): the feed this portal serves, and the upstream portals it mirrors.
MIRROR_FEED_PAGE_SIZE = env.int("MIRROR_FEED_PAGE_SIZE", default=100)
MIRROR_SYNC_INTERVAL = timedelta(seconds=env.int("MIRROR_SYNC_INTERVAL", default=60 * 60))
MIRROR_MAX_BYTES = env.int("MIRROR_MAX_BYTES", default=5 * 1024 * 1024)  # per feed page
MIRROR_MAX_PAGES = env.int("MIRROR_MAX_PAGES", default=200)
MIRROR_ALLOW_LOOPBACK = env.bool("MIRROR_ALLOW_LOOPBACK", default=DESCRIPTOR_ALLOW_LOOPBACK)

# The reviewer workspace: a claim lapses after this many hours without activity on the version
# (computed on read: another reviewer may then take it), and a version waiting longer than the
# SLA (working days, Monday to Friday) shows as late in the queue.
REVIEW_CLAIM_EXPIRY_HOURS = env.float("REVIEW_CLAIM_EXPIRY_HOURS", default=48.0)
REVIEW_SLA_WORKING_DAYS = env.int("REVIEW_SLA_WORKING_DAYS", default=5)
MIRROR_SYNC_HISTORY = timedelta(days=env.int("MIRROR_SYNC_HISTORY_DAYS", default=90))

# --- Beat: every periodic task, in this one block -------------------------------
CELERY_BEAT_SCHEDULE = {
    # A Celery worker checks in; /healthz shows when it last did.
    "worker-heartbeat": {
        "task": "core.tasks.record_heartbeat",
        "schedule": env.float("WORKER_HEARTBEAT_INTERVAL", default=60.0),
    },
    # Apply upgrades whose time came, remind site admins, expire unanswered requests.
    "upgrades-housekeeping": {"task": "upgrades.tasks.upgrade_housekeeping", "schedule": UPGRADE_HOUSEKEEPING_INTERVAL},
    # Restart running rollouts whose next-chunk message was lost (progress lives in the database).
    "upgrades-watch-rollouts": {"task": "upgrades.tasks.watch_rollouts", "schedule": ROLLOUT_WATCH_INTERVAL},
    # Send what is left in the e-mail outbox (a lost message, an expired claim of a killed sender).
    "upgrades-send-outbox": {"task": "upgrades.tasks.send_outbox", "schedule": OUTBOX_SEND_INTERVAL},
    # Send callbacks and webhooks whose retry time came (and any whose task was lost).
    "upgrades-deliveries-due": {"task": "upgrades.tasks.delivery_send_due", "schedule": 60.0},
    # Fan out one poll per due connect listing, spread over the interval.
    "versions-poll-due-descriptors": {
        "task": "versions.tasks.poll_due_descriptors",
        "schedule": DESCRIPTOR_POLL_DISPATCH_EVERY,
    },
    # Paid apps: trials and paid periods that ended expire and disable the app.
    "upgrades-licences-expire": {"task": "upgrades.tasks.licences_expire", "schedule": 15 * 60.0},
    # Sync the upstream portals this portal mirrors.
    "mirror-poll-sources": {"task": "mirror.tasks.poll_mirror_sources", "schedule": MIRROR_SYNC_INTERVAL},
    # Staged rollouts: halt a stage failing too often (the vendor is e-mailed), advance stages whose time came.
    "upgrades-rollout-stages": {"task": "upgrades.tasks.rollout_stages_tick", "schedule": 60.0},
    # Publish approved versions whose scheduled publish time came (issue #16 item 4).
    "versions-publish-scheduled": {"task": "versions.tasks.publish_scheduled_versions", "schedule": 60.0},
    # Daily digests of applied upgrades (issue #16 item 5): hourly, but at most one per admin, site and day.
    "upgrades-upgrade-digests": {"task": "upgrades.tasks.send_upgrade_digests", "schedule": 60 * 60.0},
}
