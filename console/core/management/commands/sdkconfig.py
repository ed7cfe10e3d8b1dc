"""``manage.py sdkconfig <username>`` (or ``--access-key SBAK...``): write the SageMaker Python
SDK's own config file for that user, and print the variables that point the SDK at it.

The SDK names its default bucket ``sagemaker-<region>-<account>`` after asking STS at AWS's
fixed address, which an endpoint variable does not move; the file names that bucket itself
(the user's account here) and turns the SDK's telemetry call to the internet off.
"""

from pathlib import Path

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import AccessKey
from console.core.names import account_id_for
from infra.config import settings

CONFIG_FILE = "sagemaker-config.yaml"


def sdk_config(*, region: str, account: str) -> str:
    """The config file's text (the SDK's schema, version 1.0)."""
    return (
        "SchemaVersion: '1.0'\n"
        "SageMaker:\n"
        "  PythonSDK:\n"
        "    Modules:\n"
        "      TelemetryOptOut: true\n"
        "      Session:\n"
        f"        DefaultS3Bucket: sagemaker-{region}-{account}\n"
    )


class Command(BaseCommand):
    help = (
        "Write the SageMaker SDK's config file for a user (default bucket named after the "
        "user's account, telemetry off) and print the variables that point the SDK at it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="the user whose account names the bucket")
        parser.add_argument("--access-key", help="or the user who owns this access key id")
        parser.add_argument(
            "--output", default=CONFIG_FILE, help=f"where to write it (default ./{CONFIG_FILE})"
        )

    def handle(self, *args, username, access_key, output, **options):
        user = self._user(username, access_key)
        region = django_settings.SAGEMAKER_REGION
        account = account_id_for(user.pk)
        path = Path(output).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sdk_config(region=region, account=account))
        self.stdout.write(f"# wrote {path}: default bucket sagemaker-{region}-{account}")
        self.stdout.write(f"export AWS_ENDPOINT_URL=http://127.0.0.1:{settings().port}")
        self.stdout.write(f"export AWS_DEFAULT_REGION={region}")
        self.stdout.write(f"export SAGEMAKER_USER_CONFIG_OVERRIDE={path}")

    def _user(self, username: str | None, access_key: str | None):
        if bool(username) == bool(access_key):
            raise CommandError("Name a user or give --access-key (one of the two).")
        if access_key:
            key = (
                AccessKey.objects.select_related("user")
                .filter(access_key_id=access_key, revoked_at__isnull=True)
                .first()
            )
            if key is None:
                raise CommandError(f"No active access key {access_key!r}.")
            return key.user
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user
