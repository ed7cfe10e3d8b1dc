"""ASGI entry point (``infra.web`` serves the console and both APIs with it).

InvokeEndpoint's route and the S3 API are answered by their own ASGI adapters before Django's
request handling, which would cost more than a whole invocation or a small object's PutObject
(see ``console.sagemaker.runtime``, ``console.s3.asgi``); every other request goes to Django.
Each worker imports its views, the API's shapes and Prefect's client as it starts, so that no
caller's first request waits seconds for them.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_application = get_asgi_application()

from django.urls import get_resolver  # noqa: E402

from console.core.shapes import service_model  # noqa: E402
from console.s3.asgi import asgi_s3, s3_request  # noqa: E402
from console.sagemaker.runtime import INVOCATIONS_PATH, asgi_invocations  # noqa: E402
from infra.prefect import import_client  # noqa: E402

get_resolver().url_patterns  # noqa: B018  (imports every URL module and, through them, the views)
service_model()
import_client()


async def application(scope, receive, send):
    if scope["type"] == "http" and (match := INVOCATIONS_PATH.match(scope["path"])):
        await asgi_invocations(scope, receive, send, match["name"])
    elif s3 := s3_request(scope, receive):
        await asgi_s3(*s3, send)
    else:
        await django_application(scope, receive, send)
