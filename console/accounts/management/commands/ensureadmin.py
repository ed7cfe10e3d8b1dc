"""``manage.py ensureadmin``: create the first admin user if there is none (used by make run)."""

import environ
from django.core.management.base import BaseCommand

from console.accounts.services import admin_ensure


class Command(BaseCommand):
    help = "Create the first admin from SAGEBRUSH_ADMIN_USER/PASSWORD (or generate) if none exists."

    def handle(self, *args, **options):
        env = environ.Env()
        created = admin_ensure(
            username=env.str("SAGEBRUSH_ADMIN_USER", default="") or None,
            password=env.str("SAGEBRUSH_ADMIN_PASSWORD", default="") or None,
        )
        if created is None:
            return
        self.stdout.write(self.style.SUCCESS(f"Created admin user {created.username!r}."))
        if created.password:
            self.stdout.write(
                f"  password: {created.password}   (shown once; change it in the console)"
            )
