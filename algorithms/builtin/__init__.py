"""The built-in algorithms, one module each, imported on demand by ``algorithms.registry``.

Adding an algorithm: one module here calling ``@register("<image name>")`` and its line in
``algorithms.registry.BUILTIN_MODULES``. Nothing is imported here, so that loading one algorithm
(a LightGBM model on a Dask worker) does not load the others' libraries (torch).
"""
