"""The batch-transform engine: plan, split, predict and assemble a transform job on Dask.

``batch.spec`` is cheap to import (the console validates requests with it); the engine itself
lives in ``batch.engine`` and pulls in Dask only when imported.
"""
