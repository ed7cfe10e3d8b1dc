"""The STS adapter: ``POST /`` with a form body ``Action=...``, signed for the ``sts`` service.

``GetCallerIdentity`` answers the caller's account (the account id in the ARNs of their
resources) and an IAM user ARN; any other action is STS's own XML error. ``StsMiddleware``
sends a request here, before the SageMaker API's route at ``/``, when its credential scope names
``sts``.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse

from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.accounts.throttle import client_address
from console.core.names import account_id_for
from console.sagemaker import sigv4
from console.sagemaker.auth import access_key_id_of, credential_service, refusal, signed_request
from console.sagemaker.errors import AwsError, internal_failure
from console.sagemaker.requests import read_body
from console.sagemaker.views import query_error

log = logging.getLogger(__name__)
SERVICE = "sts"
NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
FORM = "application/x-www-form-urlencoded"


class StsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if credential_service(request) == SERVICE:
            return sts_api(request)
        return self.get_response(request)


def caller_identity(user) -> dict[str, str]:
    account = account_id_for(user.pk)
    return {
        "UserId": f"AIDA{account}",
        "Account": account,
        "Arn": f"arn:aws:iam::{account}:user/{user.username}",
    }


def _authenticate(request: HttpRequest, body: bytes):
    signed = signed_request(request, body)
    try:
        return _verified_user(signed)
    except AwsError as exc:  # past the limit of failures, STS's query-protocol "Throttling"
        raise refusal(exc, signed, address=client_address(request), code="Throttling") from exc


def _verified_user(signed: sigv4.SignedRequest):
    credentials = access_key_credentials(access_key_id=access_key_id_of(signed))
    if credentials is None:
        raise AwsError(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            status=403,
        )
    key, secret = credentials
    try:
        sigv4.verify(signed, secret=secret, region=_region(signed), service=SERVICE)
    except sigv4.SignatureError as exc:
        code = "SignatureDoesNotMatch" if exc.code == "InvalidSignatureException" else exc.code
        raise AwsError(code, exc.message, status=403) from exc
    access_key_mark_used(key=key)
    return key.user


def _region(signed: sigv4.SignedRequest) -> str:
    # STS is global: a client may scope its signature to any region (us-east-1 for the global
    # endpoint, its own for a regional one). The signature still covers the region it names.
    credential, _, _ = sigv4.parse_authorization(signed.headers)
    return credential.region


def _action(request: HttpRequest, body: bytes) -> str:
    if request.method != "POST" or request.content_type != FORM:
        fields = request.GET
        action = fields.get("Action", "")
    else:
        action = parse_qs(body.decode("latin-1")).get("Action", [""])[0]
    if not action:
        raise AwsError("MissingAction", "The request must contain the parameter Action.")
    return action


def sts_api(request: HttpRequest) -> HttpResponse:
    request_id = str(uuid.uuid4())
    try:
        body = read_body(request)
        user = _authenticate(request, body)
        action = _action(request, body)
        if action != "GetCallerIdentity":
            raise AwsError(
                "InvalidAction",
                f"Could not find operation {action} for version 2011-06-15: this platform's "
                "STS answers GetCallerIdentity.",
            )
        return _identity_response(user, request_id)
    except AwsError as error:
        return query_error(error, request_id=request_id)
    except Exception:
        log.exception("STS request %s failed", request_id)
        return query_error(internal_failure(request_id), request_id=request_id)


def _identity_response(user, request_id: str) -> HttpResponse:
    fields = "".join(
        f"<{name}>{escape(value)}</{name}>" for name, value in caller_identity(user).items()
    )
    body = (
        f'<GetCallerIdentityResponse xmlns="{NAMESPACE}">'
        f"<GetCallerIdentityResult>{fields}</GetCallerIdentityResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    )
    response = HttpResponse(body, content_type="text/xml")
    response["x-amzn-RequestId"] = request_id
    return response
