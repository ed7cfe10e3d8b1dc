"""Runtime plumbing of every process: configuration, storage, Celery, Dask, Prefect, web."""
