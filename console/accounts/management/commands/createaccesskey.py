"""``manage.py createaccesskey <username>``: make an access key for scripts and print it once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from console.accounts.services import access_key_create


class Command(BaseCommand):
    help = "Create an access key for a user and print its id and secret (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--description", default="created by manage.py createaccesskey")

    def handle(self, *args, username, description, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        new = access_key_create(user=user, description=description)
        self.stdout.write(f"AccessKeyId: {new.access_key_id}")
        self.stdout.write(f"SecretAccessKey: {new.secret_access_key}")
