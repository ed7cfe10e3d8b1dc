"""The S3 API (REST-XML) over the platform's object store: one adapter, reached at the same host
as the console by requests signed for the ``s3`` service or addressed to ``<bucket>.localhost``."""
