"""One settings module; every difference between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Django -----------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "oms.accounts",
    "oms.outbox",
    "oms.automation",
    "oms.numbering",
    "oms.links",
    "oms.audit",
    "oms.api",
    "oms.webhooks",
    "oms.imports",
    "customers",
    "orders",
    "quotes",
    "invoicing",
    "invoicing.accounting",
    "invoicing.banking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "oms.accounts.middleware.SecondFactorMiddleware",
    "oms.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "oms.middleware.RefuseUnstorableTextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it turns a lockout anywhere below into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# django-axes first: a locked-out username and IP is refused before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "oms.accounts.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database ---------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several processes (web, worker, beat) at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Dashboard aggregates look expensive to the planner, and JIT compiling them costs
    # seconds while the queries themselves take milliseconds.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env.str(
        "PG_OPTIONS", default="-c jit=off"
    )

# --- Celery -----------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_TIMEZONE = TIME_ZONE
# The cache (rate-limit counters) lives in Redis when there is one, so every process agrees.
CACHES = {"default": env.cache_url("CACHE_URL", default=REDIS_URL or "locmemcache://")}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task may run, so an unacknowledged task is not redelivered early.
        "visibility_timeout": 3600,
    }
else:
    # Embedded default: a broker in plain files under var/, nothing to install.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A handler gets this many tries (backoff with jitter, at most a minute apart), then is dead.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=6)
# An event handed to the broker but unfinished after this many seconds is handed over again.
OUTBOX_REDISPATCH_AFTER = env.int("OUTBOX_REDISPATCH_AFTER", default=300)
CELERY_BEAT_SCHEDULE = {
    "poll-xero-payments": {
        "task": "invoicing.accounting.tasks.poll_xero_payments",
        "schedule": timedelta(minutes=env.int("XERO_POLL_MINUTES", default=15)),
    },
    "relay-outbox": {
        "task": "oms.outbox.tasks.relay_outbox",
        "schedule": timedelta(seconds=env.int("OUTBOX_RELAY_INTERVAL", default=10)),
    },
    "send-due-followups": {
        "task": "oms.automation.tasks.send_due_followups",
        "schedule": timedelta(minutes=1),
    },
    "expire-quotes": {
        "task": "oms.automation.tasks.expire_quotes",
        "schedule": timedelta(minutes=5),
    },
    "resume-imports": {
        "task": "oms.imports.tasks.resume_imports",
        "schedule": timedelta(seconds=env.int("IMPORT_SWEEP_INTERVAL", default=30)),
    },
    "send-due-webhooks": {
        "task": "oms.webhooks.tasks.send_due_webhooks",
        "schedule": timedelta(seconds=env.int("WEBHOOK_SWEEP_INTERVAL", default=10)),
    },
}

# --- Email ------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A provider's API instead of SMTP, through django-anymail: set EMAIL_BACKEND (for example
# anymail.backends.postmark.EmailBackend) and its ANYMAIL_* keys (ANYMAIL_POSTMARK_SERVER_TOKEN).
if env.str("EMAIL_BACKEND", default=""):
    EMAIL_BACKEND = env.str("EMAIL_BACKEND")
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orders@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Business ---------------------------------------------------------------

DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="GBP")
QUOTE_VALIDITY_DAYS = env.int("QUOTE_VALIDITY_DAYS", default=30)
COMPANY = {
    "name": env.str("COMPANY_NAME", default="Acme Services Ltd"),
    "address": env.str("COMPANY_ADDRESS", default="1 High Street, London, EC1A 1AA"),
    "tax_number": env.str("COMPANY_TAX_NUMBER", default="GB123456789"),
    "logo_path": env.str("COMPANY_LOGO_PATH", default=""),
    "bank_details": env.str("COMPANY_BANK_DETAILS", default="Sort code 00-00-00, account 00000000"),
}

# Customer links: days until a signed link expires, per purpose.
CUSTOMER_LINK_DAYS = {
    "quote": env.int("QUOTE_LINK_DAYS", default=30),
    "tracking": env.int("TRACKING_LINK_DAYS", default=90),
    "invoice": env.int("INVOICE_LINK_DAYS", default=90),
    "change_request": env.int("CHANGE_REQUEST_LINK_DAYS", default=30),
}
# Job photos and signatures: the largest file accepted, in bytes (images only).
ORDER_UPLOAD_MAX_BYTES = env.int("ORDER_UPLOAD_MAX_BYTES", default=8 * 1024 * 1024)
# Spreadsheet imports: the largest file and the most rows accepted, the longest cell, and
# up to how many rows an import runs in the request (larger ones run in the worker).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=10_000)
IMPORT_INLINE_MAX_ROWS = env.int("IMPORT_INLINE_MAX_ROWS", default=1_000)
# Seconds after which a running import whose worker died is started again by beat's sweep.
IMPORT_RESUME_AFTER = env.int("IMPORT_RESUME_AFTER", default=120)
# Pipeline: days in a stage after which an order is flagged as stalled ("invoiced" counts
# days past the invoice due date). Override with e.g. PIPELINE_STALL_DAYS="quoted=10;delivered=1"
PIPELINE_STALL_DAYS = {
    "enquiry": 7,
    "quoted": 14,
    "confirmed": 7,
    "in_progress": 30,
    "on_hold": 14,
    "delivered": 2,
    "invoiced": 30,
    **env.dict("PIPELINE_STALL_DAYS", cast={"value": int}, default={}),
}
# Metrics: boundaries of the quote value bands (gross), ascending, e.g. "1000,5000,20000"
# gives under 1,000 / 1,000 to 5,000 / 5,000 to 20,000 / 20,000 and over.
METRICS_VALUE_BANDS = env.list("METRICS_VALUE_BANDS", default=["1000", "5000", "20000"])
# Metrics: seconds the page's figures are kept before they are computed again (0: every view).
METRICS_CACHE_SECONDS = env.int("METRICS_CACHE_SECONDS", default=300)

# --- Xero -------------------------------------------------------------------

XERO_CLIENT_ID = env.str("XERO_CLIENT_ID", default="")
XERO_CLIENT_SECRET = env.str("XERO_CLIENT_SECRET", default="")
XERO_REDIRECT_URI = env.str("XERO_REDIRECT_URI", default=f"{SITE_URL}/xero/callback")
XERO_WEBHOOK_KEY = env.str("XERO_WEBHOOK_KEY", default="")
XERO_API_URL = env.str("XERO_API_URL", default="https://api.xero.com")
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="")
XERO_IDENTITY_URL = env.str("XERO_IDENTITY_URL", default="https://identity.xero.com")
XERO_LOGIN_URL = env.str("XERO_LOGIN_URL", default="https://login.xero.com")
XERO_SCOPES = env.list(
    "XERO_SCOPES",
    default=[
        "offline_access",
        "accounting.transactions",
        "accounting.contacts",
        "accounting.settings.read",
    ],
)
# Xero's limits per organisation, shared by every worker through Redis.
XERO_MAX_IN_FLIGHT = env.int("XERO_MAX_IN_FLIGHT", default=5)
XERO_RATE_LIMIT = env.int("XERO_RATE_LIMIT", default=60)
XERO_RATE_WINDOW_SECONDS = env.float("XERO_RATE_WINDOW_SECONDS", default=60.0)
XERO_DAILY_LIMIT = env.int("XERO_DAILY_LIMIT", default=5000)
XERO_SYNC_MAX_ATTEMPTS = env.int("XERO_SYNC_MAX_ATTEMPTS", default=8)
XERO_POLL_MINUTES = env.int("XERO_POLL_MINUTES", default=15)

# --- Webhooks ---------------------------------------------------------------

# Seconds to wait for a receiver to answer one POST.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# Retries back off exponentially (with jitter) from this many seconds, at most this far apart,
# and stop this many hours after the event.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3 * 60 * 60)
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
# An endpoint failing this many attempts in a row is paused and its owner told.
WEBHOOK_PAUSE_AFTER_FAILURES = env.int("WEBHOOK_PAUSE_AFTER_FAILURES", default=10)
# Receivers on loopback, private or link-local addresses are refused unless allowed here,
# so an endpoint cannot be pointed at services inside the OMS's own network.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)

# --- API --------------------------------------------------------------------

# Requests per token per period ("600/min", "10000/hour"), counted in the shared cache.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oms.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["oms.api.permissions.HasRole"],
    "DEFAULT_THROTTLE_CLASSES": ["oms.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "oms.api.pagination.ApiPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON for integrations; forms too, so the browsable docs and plain HTML forms work.
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "oms.api.exceptions.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OMS API",
    "DESCRIPTION": (
        "Orders from enquiry to payment. Authenticate with `Authorization: Bearer <token>` "
        "(create a token on the API tokens page). Errors: 400 invalid fields (per field), "
        "401 no or bad token, 403 role may not, 404 unknown, 409 not allowed in the "
        "current state, 429 rate limited."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "OrderKindEnum": "orders.models.Order.Kind",
        "ProductKindEnum": "orders.models.Product.Kind",
        "QuoteStatusEnum": "quotes.models.Quote.Status",
        "InvoiceStatusEnum": "invoicing.models.Invoice.Status",
        "InvoiceKindEnum": "invoicing.models.Invoice.Kind",
        "TimelineEventKindEnum": "orders.models.TimelineEvent.Kind",
    },
}

# --- Security ---------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Enforced Content Security Policy: scripts and styles come only from our own static files,
# so markup that slips into a page cannot run; no one may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        # Connecting Xero posts here and is redirected to Xero's sign-in page.
        "form-action": ["'self'", XERO_LOGIN_URL.rstrip("/")],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
# Public customer pages: requests per IP per window, per kind of page.
PUBLIC_RATE_LIMIT = env.int("PUBLIC_RATE_LIMIT", default=120)
PUBLIC_RATE_WINDOW_SECONDS = env.int("PUBLIC_RATE_WINDOW_SECONDS", default=60)
SESSION_COOKIE_HTTPONLY = True
# Staff login (django-axes): this many failures for one email from one IP locks that pair
# out for the cool-off; the lockout page reads the same whether or not the account exists.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the email box on the login form
AXES_USERNAME_CALLABLE = "oms.accounts.lockout.attempted_email"
AXES_CLIENT_IP_CALLABLE = "oms.accounts.lockout.client_ip_address"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out are refused without restarting the 30 minutes.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "oms.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in the audit log
AXES_VERBOSE = False
# Second factor (TOTP, django-otp): roles that must set it up before using anything else,
# e.g. "finance,manager,admin". Empty: optional for everyone.
REQUIRE_TOTP_FOR = [role.strip().lower() for role in env.list("REQUIRE_TOTP_FOR", default=[])]
OTP_TOTP_ISSUER = COMPANY["name"] + " OMS"

# --- Logging ----------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
