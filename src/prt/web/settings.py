"""Django settings of the trial platform, read from the environment (prt.web.config, docs/web.md).

Secure by default: unless ``PRT_MODE=local`` the settings are the production ones (HTTPS only,
secure cookies, HSTS, a strict Content Security Policy) and pass ``manage.py check --deploy``
with no warning (tests/web/test_deploy.py). Rules from Django's deployment checklist
(docs.djangoproject.com/en/5.2/howto/deployment/checklist/) and the OWASP ASVS 4.0 session and
password chapters.
"""

from __future__ import annotations

from pathlib import Path

from csp.constants import NONE, SELF

from prt.errors import InputError
from prt.web import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()
MODE = config.mode()
LOCAL = MODE == "local"
DEBUG = config.flag(None, "PRT_DEBUG")
if DEBUG and not LOCAL:
    raise InputError("PRT_DEBUG: debug pages are allowed only with PRT_MODE=local (they show data)")

SECRET_KEY = config.secret_key(DATA_DIR)
ALLOWED_HOSTS = config.allowed_hosts()
DATABASES = {"default": config.database()}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    #: Each worker keeps its SQLite connection between requests: opening one per request (and closing
    #: the last one, which checkpoints the WAL) cost more than the rest of a diary submission
    #: (docs/benchmarks.md, "Web platform"). WAL and synchronous=FULL are set on each new connection.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "prt.web.accounts",
    "prt.web.participants",
    "prt.web.audit",
    "prt.web.diary",
    "prt.web.questionnaires",
    "prt.web.enrolment",
    "prt.web.randomization",
    "django_tasks",
    "django_tasks_db",
    "prt.web.analyst",
    "prt.web.visits",
    "prt.web.reminders",
    "prt.web.safety",
    "prt.web.consort",
    "prt.web.program",
    "prt.web.attributions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "prt.web.accounts.middleware.SecondFactorMiddleware",  # staff: TOTP before anything else
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "prt.web.urls"
WSGI_APPLICATION = "prt.web.wsgi.application"

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

# ---------------------------------------------------------------------------- accounts
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
#: Every login goes through the throttled backend (accounts/throttle.py): admin login included.
AUTHENTICATION_BACKENDS = ["prt.web.accounts.backends.ThrottledModelBackend"]
#: Argon2id first (OWASP Password Storage Cheat Sheet); the others only verify old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
#: Failed logins per username before a lockout, and how long it lasts (OWASP ASVS 2.2.1).
PRT_LOGIN_FAILURE_LIMIT = 5
PRT_LOGIN_LOCKOUT_SECONDS = 15 * 60
#: Staff second factor (accounts/twofactor.py): TOTP, the issuer named in authenticator apps; wrong
#: codes wait 1, 2, 4, 8 ... seconds (django-otp's back-off, OWASP ASVS 4.0, 2.2.1).
OTP_TOTP_ISSUER = "PRT trial"
OTP_TOTP_THROTTLE_FACTOR = 1

#: The allocation log's HMAC key (``prt trial keygen``); never created by the server: without it
#: nobody is randomized (randomization/services.py). The demo makes one in the data folder.
PRT_ALLOCATION_KEY_FILE = config.allocation_key_file(DATA_DIR)

# ---------------------------------------------------------------------------- e-mail (the reminders)
#: Local mode (the demo): files in PRT_DATA_DIR/outbox; production: SMTP from PRT_EMAIL_* (docs/web.md).
globals().update(config.email(DATA_DIR, LOCAL))
PRT_PUBLIC_URL = config.public_url(LOCAL)
globals().update(config.reminders())
#: A site's curriculum override for the program app (None: prt.program's packaged curriculum).
PRT_PROGRAM_CURRICULUM = config.program_curriculum()
#: The trained coder of the pain-attribution item (prt.attribution's model file); None: the lemma coder.
PRT_ATTRIBUTION_MODEL = config.attribution_model()

#: Background jobs (an analysis run): Django's task framework with its database backend
#: (django-tasks + django-tasks-db; worker: ``prt web manage db_worker``). docs/web.md says why.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# ---------------------------------------------------------------------------- sessions, cookies, TLS
SESSION_ENGINE = "prt.web.accounts.sessions"  # Django's database sessions, read without the query compiler
SESSION_COOKIE_AGE = 7 * 24 * 3600  # a participant rates pain daily on their own phone
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not LOCAL
SECURE_SSL_REDIRECT = not LOCAL
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer probes over plain HTTP
SECURE_HSTS_SECONDS = 0 if LOCAL else 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = not LOCAL
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if config.flag(None, "PRT_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
#: No form or API body of this platform is near this size; larger bodies are refused (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

#: A strict Content Security Policy: no inline script or style, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# ---------------------------------------------------------------------------- static files, i18n
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = None  # no collectstatic: WhiteNoise serves from the apps (below)
#: WhiteNoise serves the apps' static files straight from the package: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # stored instants are UTC; a site's own zone decides its participants' "today"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------- logging
#: Requests are logged by path and status only (no bodies, no query values of forms: ratings are
#: POSTed); paths carry study ids and dates, never names or answers.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
