"""ASGI entry point (``infra.web`` serves the console and both APIs with it).

InvokeEndpoint's route is answered by its own ASGI adapter before Django's request handling,
which would cost more than the whole invocation (see ``console.sagemaker.runtime``); every other
request goes to Django.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_application = get_asgi_application()

from console.sagemaker.runtime import INVOCATIONS_PATH, asgi_invocations  # noqa: E402


async def application(scope, receive, send):
    if scope["type"] == "http" and (match := INVOCATIONS_PATH.match(scope["path"])):
        await asgi_invocations(scope, receive, send, match["name"])
    else:
        await django_application(scope, receive, send)
