"""Prefect flows: one per job kind, plus pipelines and schedules; ``flows.serve`` runs them all.

Flows report through console services and read through selectors, so importing this package
sets Django up (once): every flow module imports the console at its top.
"""

from flows.django_setup import setup

setup()
