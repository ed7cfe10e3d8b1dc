"""Prefect flows: one per job kind, plus pipelines and schedules; ``flows.serve`` runs them all."""
