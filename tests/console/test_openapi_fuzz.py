"""schemathesis over the REST API's whole OpenAPI document, against the Django app (WSGI).

Every operation is called with examples, coverage cases and fuzzed requests, and then in
stateful sequences along the links schemathesis infers (create, then read or delete by name).
All its checks run: no 5xx, and every status, content type, header and body as documented.

``SAGEBRUSH_FUZZ_EXAMPLES`` sets the examples per operation and per stateful run (small by
default, so the suite stays fast); the seed is fixed, so a run repeats.
E.g. ``SAGEBRUSH_FUZZ_EXAMPLES=500 pytest tests/console/test_openapi_fuzz.py``.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from console.endpoints.services.configs import endpoint_config_create
from console.registry.services import model_create
from console.training.services import training_job_create
from console.wsgi import application
from infra.storage import get_store
from tests.conftest import claim_bucket
from tests.flows.test_training import request as training_request

DEFAULT_EXAMPLES = 30
EXAMPLES = int(os.environ.get("SAGEBRUSH_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
SEED = 23

# Bodies that are SageMaker requests carry rules a JSON Schema leaves out (botocore's Java
# patterns, names of other resources, one member bounded by another): a body that fits the
# document may still be refused, with a 400 naming the rule.
RULES_BEYOND_THE_SCHEMA = {
    "include-method-regex": "^(POST|PUT|PATCH)$",
    "include-path-regex": (
        r"^/api/v1/(?!access-keys/)[a-z-]+/$"
        r"|^/api/v1/endpoints/\{name\}/(update|weights-and-capacities)/$"
        r"|^/api/v1/endpoints/\{name\}/variants/\{variant\}/autoscaling/$"
        r"|^/api/v1/workteams/\{name\}/$"
        r"|^/api/v1/labeling-jobs/\{name\}/tasks/\{item\}/answer/$"
    ),
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
        }
    },
    # The coverage phase's boundary cases over these deep bodies take most of a minute per
    # operation: a longer run (more examples than the default) adds them.
    "phases": {"coverage": {"enabled": EXAMPLES > DEFAULT_EXAMPLES}},
}
config = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
        "checks": {"enabled": True},
        "operations": [RULES_BEYOND_THE_SCHEMA],
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


_credentials: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class AccessKeyAuth:
    """The test user's access key, as the document's ``accessKey`` scheme: schemathesis knows
    it for the credentials they are, and can leave them out to check that they are needed."""

    def get(self, case, context) -> str:
        return _credentials.get("bearer", "")  # empty while tests are collected

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _bearer() -> dict[str, str]:
    """The credentials as a header, for cases built here rather than generated."""
    return {"Authorization": f"Bearer {_credentials['bearer']}"}


@pytest.fixture
def credentials(access_key):
    _credentials["bearer"] = f"{access_key.access_key_id}:{access_key.secret_access_key}"
    yield
    _credentials.clear()


@pytest.fixture
def resources(user):
    """Resources the tests can create without running anything, so that lists have members and
    the document's Describe shapes meet real answers. (No flow starts: the test's transaction
    never commits. An endpoint's detail reads its serving state from Redis, absent here.)"""
    store = get_store()
    claim_bucket(user, "fuzz")
    for key in ("model/model.tar.gz", "train/part.csv", "validation/part.csv"):
        store.write_bytes(f"s3://fuzz/{key}", b"1,2\n")
    container = {"Image": "lightgbm", "ModelDataUrl": "s3://fuzz/model/model.tar.gz"}
    model_create(user=user, spec={"ModelName": "seed-model", "PrimaryContainer": container})
    variant = {"VariantName": "main", "ModelName": "seed-model", "InitialInstanceCount": 1}
    endpoint_config_create(
        user=user, spec={"EndpointConfigName": "seed-config", "ProductionVariants": [variant]}
    )
    training_job_create(user=user, spec=training_request("fuzz", name="seed-job"))


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case, credentials):
    case.call_and_validate()


@pytest.mark.django_db
def test_sequences_of_operations_answer_as_documented(credentials, resources):
    schema.as_state_machine().run(
        settings=settings(FUZZ, max_examples=max(EXAMPLES // 4, 5), stateful_step_count=6)
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "name", "status"),
    [
        ("GET", "/api/v1/models/{name}/", "seed-model", 200),
        ("GET", "/api/v1/endpoint-configs/{name}/", "seed-config", 200),
        ("GET", "/api/v1/training-jobs/{name}/", "seed-job", 200),
        ("POST", "/api/v1/training-jobs/{name}/stop/", "seed-job", 202),
        ("DELETE", "/api/v1/endpoint-configs/{name}/", "seed-config", 204),
    ],
)
def test_resources_read_as_documented(credentials, resources, method, path, name, status):
    """Fuzzed names rarely name a resource: each Describe shape meets a real answer here."""
    case = schema[path][method].Case(path_parameters={"name": name})
    assert case.call_and_validate(headers=_bearer()).status_code == status


@pytest.mark.django_db
@pytest.mark.parametrize("resource", ["models", "endpoint-configs", "training-jobs"])
def test_lists_with_members_read_as_documented(credentials, resources, resource):
    case = schema[f"/api/v1/{resource}/"]["GET"].Case(query={"limit": 1})
    response = case.call_and_validate(headers=_bearer())
    assert response.json()["count"] == 1
