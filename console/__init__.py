"""The Django project: the web console, the REST API and the SageMaker-compatible API."""
