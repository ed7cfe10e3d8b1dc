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


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    port: int
    database_url: str
    redis_url: str
    redis_embedded: bool
    embedded_redis_port: int
    s3_endpoint_url: str | None
    s3_access_key: str | None
    s3_secret_key: str | None
    s3_region: str
    dask_scheduler_address: str | None
    prefect_api_url: str
    prefect_embedded: bool
    embedded_prefect_port: int
    debug: bool

    @property
    def objects_dir(self) -> Path:
        """Root of the local object-storage backend (used when S3_ENDPOINT_URL is unset)."""
        return self.data_dir / "objects"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def work_dir(self) -> Path:
        """Scratch folders of running jobs (their input, the model being packed): beside the
        local object storage, on its file system, so that input can be linked, not copied."""
        return self.data_dir / "work"

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
    # Ports of the embedded servers, used only when REDIS_URL / PREFECT_API_URL are unset.
    redis_port = env.int("SAGEBRUSH_REDIS_PORT", default=6390)
    prefect_port = env.int("SAGEBRUSH_PREFECT_PORT", default=4200)
    return Settings(
        data_dir=data_dir,
        port=env.int("PORT", default=8000),
        database_url=env.str("DATABASE_URL", default=f"sqlite:///{data_dir / 'db.sqlite3'}"),
        redis_url=redis_url or f"redis://127.0.0.1:{redis_port}/0",
        redis_embedded=not redis_url,
        embedded_redis_port=redis_port,
        s3_endpoint_url=env.str("S3_ENDPOINT_URL", default="") or None,
        s3_access_key=env.str("S3_ACCESS_KEY", default="") or None,
        s3_secret_key=env.str("S3_SECRET_KEY", default="") or None,
        s3_region=env.str("S3_REGION", default="us-east-1"),
        dask_scheduler_address=env.str("DASK_SCHEDULER_ADDRESS", default="") or None,
        prefect_api_url=prefect_api_url or f"http://127.0.0.1:{prefect_port}/api",
        prefect_embedded=not prefect_api_url,
        embedded_prefect_port=prefect_port,
        debug=env.bool("DEBUG", default=False),
    )


@functools.cache
def settings() -> Settings:
    """The process-wide settings, read from ``os.environ`` on first use."""
    return read_settings(dict(os.environ))
