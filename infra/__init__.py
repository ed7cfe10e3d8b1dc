"""Runtime plumbing shared by every process: configuration, object storage, Celery, Dask, Prefect."""
