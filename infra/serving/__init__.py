"""Real-time endpoints: Celery worker instances host a variant's model and answer its invocations;
the supervisor keeps each variant's instances running, the client sends requests to them."""
