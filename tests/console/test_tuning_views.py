"""The tuning console's JSON views answer refusals in the REST API's one error shape."""

from __future__ import annotations

import pytest

from console.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def test_a_refused_surrogate_parameter_is_the_rest_error_shape(client, user, monkeypatch):
    def refused(job, *, parameter):
        raise ValidationError("Parameter", "Member must be one of eta, alpha", value=parameter)

    monkeypatch.setattr("console.tuning.views._job_or_404", lambda request, name: object())
    monkeypatch.setattr("console.tuning.views.tuning_job_surrogate", refused)
    client.force_login(user)
    response = client.get("/tuning-jobs/done/surrogate.json?parameter=nope")
    assert response.status_code == 400
    assert response.json() == {
        "detail": response.json()["detail"],
        "field": "parameter",
        "errors": {"parameter": ["Member must be one of eta, alpha"]},
    }
    assert "nope" in response.json()["detail"]
