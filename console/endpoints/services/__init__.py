"""Every write to endpoint configs and endpoints, one module per idea.

``configs`` (endpoint configs), ``endpoints`` (create, update, delete), ``capacity`` (weights,
instance counts, autoscaling), ``deployment`` (starting the deploy flow and what it reports),
``serving`` (the one writer of the serving state in Redis, on commit) and ``one_step`` (config
and endpoint at once, from a model or a training job). Import from the modules.
"""
