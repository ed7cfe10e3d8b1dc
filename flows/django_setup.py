"""Flows report through console services, so they set Django up once per process."""

import os


def setup() -> None:
    """Load Django's apps, once: a second ``django.setup()`` would configure logging again,
    closing the handlers Prefect has installed for the flow run meanwhile."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    from django.apps import apps

    if apps.ready:
        return
    import django

    django.setup()
