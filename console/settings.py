"""Django settings. Every value comes from the environment through ``infra.config``."""

from pathlib import Path

import environ

from infra.config import settings as platform_settings

PLATFORM = platform_settings()
BASE_DIR = Path(__file__).resolve().parent
PLATFORM.data_dir.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    env = environ.Env()
    if key := env.str("SECRET_KEY", default=""):
        return key
    path = PLATFORM.data_dir / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = PLATFORM.debug
ALLOWED_HOSTS = environ.Env().list("ALLOWED_HOSTS", default=["*"])
CSRF_TRUSTED_ORIGINS = environ.Env().list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "console.core",
    "console.accounts",
    "console.sagemaker",
    "console.training",
    "console.tuning",
    "console.registry",
    "console.endpoints",
    "console.transform",
    "console.processing",
    "console.labeling",
    "console.pipelines",
    "console.buckets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The S3 and STS APIs share the host and paths with the console: signed requests for those
    # services (and S3's <bucket>.localhost) are answered before static files and URL routing.
    "console.s3.views.S3Middleware",
    "console.sts.views.StsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "console.core.api.InternalErrorMiddleware",
]

ROOT_URLCONF = "console.urls"
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
                "console.core.context_processors.platform",
            ],
        },
    },
]
WSGI_APPLICATION = "console.wsgi.application"
ASGI_APPLICATION = "console.asgi.application"

DATABASES = {"default": environ.Env.db_url_config(PLATFORM.database_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, flows) write the same file: wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = PLATFORM.data_dir / "static"
STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute force (console.accounts.throttle): past this many failed authentications within the window
# from one access key, user name or address, the next are refused as throttled. The counts are
# in the cache, the platform's Redis, so every web process sees them (CACHE_URL names another).
AUTH_FAILURE_LIMIT = environ.Env().int("SAGEBRUSH_AUTH_FAILURE_LIMIT", default=10)
AUTH_FAILURE_WINDOW_S = environ.Env().int("SAGEBRUSH_AUTH_FAILURE_WINDOW_S", default=300)
CACHES = {"default": environ.Env().cache_url("CACHE_URL", default=PLATFORM.redis_url)}
AUTHENTICATION_BACKENDS = ["console.accounts.backends.ThrottledModelBackend"]

# The one region the SageMaker API answers for: a SigV4 credential scoped to any other region
# is refused, as AWS refuses a request signed for another region's endpoint. Clients set it as
# their region_name (boto3) or AWS_REGION.
SAGEMAKER_REGION = environ.Env().str("SAGEMAKER_REGION", default="us-east-1")

# Uploads through the console's object browser stream to disk beyond this size.
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
# The runtime route accepts 6 MB bodies and answers 413 itself past that; allow a little over.
DATA_UPLOAD_MAX_MEMORY_SIZE = 7 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "console.accounts.authentication.AccessKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "console.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": [
        "console.core.api.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Responses escape non-ASCII: a stored string that is not valid Unicode still renders.
    "UNICODE_JSON": False,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "console.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sagebrush REST API",
    "DESCRIPTION": "Training, tuning, models, endpoints, batch transform, labeling and pipelines.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets are served from this installation: the console works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # Every Prefect API call (the runner asks for runs twice a second) at INFO: noise.
        "httpx": {"level": "WARNING"},
        # A flow run applies Prefect's logging configuration, whose root level is WARNING: the
        # platform's own loggers say INFO themselves, or a tuning job's "launched" and "Early
        # stopping" lines never reach the flows log.
        **{
            package: {"level": "INFO"}
            for package in ("algorithms", "batch", "console", "flows", "infra")
        },
    },
}
