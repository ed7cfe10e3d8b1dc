"""Access keys for scripts and the first admin user."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from console.accounts.models import AccessKey
from console.accounts.selectors import access_key_credentials

pytestmark = pytest.mark.django_db


def test_createaccesskey_prints_a_working_key_once(user):
    out = io.StringIO()
    call_command("createaccesskey", "ada", stdout=out)
    key_id = re.search(r"^AccessKeyId: (\S+)$", out.getvalue(), re.M).group(1)
    secret = re.search(r"^SecretAccessKey: (\S+)$", out.getvalue(), re.M).group(1)

    stored = AccessKey.objects.get(access_key_id=key_id)
    assert secret.encode() not in bytes(stored.encrypted_secret)  # not stored in clear
    found_key, found_secret = access_key_credentials(access_key_id=key_id)
    assert found_key.user == user and found_secret == secret


def test_createaccesskey_for_an_unknown_user_fails_clearly():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("createaccesskey", "nobody")


def test_ensureadmin_creates_the_first_admin_only(monkeypatch, django_user_model):
    monkeypatch.setenv("SAGEBRUSH_ADMIN_USER", "root")
    monkeypatch.setenv("SAGEBRUSH_ADMIN_PASSWORD", "s3cret-enough")
    out = io.StringIO()
    call_command("ensureadmin", stdout=out)
    admin = django_user_model.objects.get(username="root")
    assert admin.is_superuser and admin.check_password("s3cret-enough")
    assert "password:" not in out.getvalue()  # the user chose it; nothing to print

    call_command("ensureadmin", stdout=(again := io.StringIO()))
    assert again.getvalue() == ""
    assert django_user_model.objects.filter(is_superuser=True).count() == 1


def test_ensureadmin_generates_and_prints_a_password_when_none_is_given(
    monkeypatch, django_user_model
):
    monkeypatch.delenv("SAGEBRUSH_ADMIN_USER", raising=False)
    monkeypatch.delenv("SAGEBRUSH_ADMIN_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("ensureadmin", stdout=out)
    password = re.search(r"password: (\S+)", out.getvalue()).group(1)
    assert django_user_model.objects.get(username="admin").check_password(password)
