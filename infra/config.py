"""The platform's settings, read once from the environment with the embedded defaults.

Django's settings module and the plain libraries (algorithms, batch, infra) both read from here,
so no default is written twice.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import environ

REPO_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_REDIS_PORT = 6390
EMBEDDED_PREFECT_PORT = 4200


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    port: int
    database_url: str
    redis_url: str
    redis_embedded: bool
    s3_endpoint_url: str | None
    s3_access_key: str | None
    s3_secret_key: str | None
    s3_region: str
    dask_scheduler_address: str | None
    prefect_api_url: str
    prefect_embedded: bool
    debug: bool

    @property
    def objects_dir(self) -> Path:
        """Root of the local object-storage backend (used when S3_ENDPOINT_URL is unset)."""
        return self.data_dir / "objects"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def prefect_ui_url(self) -> str:
        return self.prefect_api_url.rstrip("/").removesuffix("/api")


def read_settings(environ_: dict[str, str] | None = None) -> Settings:
    """Build the settings from an environment mapping (``os.environ`` by default)."""
    env = environ.Env()
    if environ_ is not None:
        env.ENVIRON = environ_
    data_dir = Path(env.str("DATA_DIR", default=str(REPO_ROOT / ".sagebrush"))).resolve()
    redis_url = env.str("REDIS_URL", default="")
    prefect_api_url = env.str("PREFECT_API_URL", default="")
    return Settings(
        data_dir=data_dir,
        port=env.int("PORT", default=8000),
        database_url=env.str("DATABASE_URL", default=f"sqlite:///{data_dir / 'db.sqlite3'}"),
        redis_url=redis_url or f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0",
        redis_embedded=not redis_url,
        s3_endpoint_url=env.str("S3_ENDPOINT_URL", default="") or None,
        s3_access_key=env.str("S3_ACCESS_KEY", default="") or None,
        s3_secret_key=env.str("S3_SECRET_KEY", default="") or None,
        s3_region=env.str("S3_REGION", default="us-east-1"),
        dask_scheduler_address=env.str("DASK_SCHEDULER_ADDRESS", default="") or None,
        prefect_api_url=prefect_api_url or f"http://127.0.0.1:{EMBEDDED_PREFECT_PORT}/api",
        prefect_embedded=not prefect_api_url,
        debug=env.bool("DEBUG", default=False),
    )


@functools.cache
def settings() -> Settings:
    """The process-wide settings, read from ``os.environ`` on first use."""
    return read_settings(dict(os.environ))
