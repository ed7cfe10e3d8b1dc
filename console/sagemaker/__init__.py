"""The SageMaker-compatible API: AWS JSON 1.1 over ``POST /``, SigV4, and the runtime route."""
