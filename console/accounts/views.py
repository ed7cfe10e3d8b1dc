"""Console pages for signing in and for the signed-in user's access keys."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.accounts.backends import username_credential
from console.accounts.selectors import access_key_list
from console.accounts.services import access_key_create, access_key_revoke
from console.accounts.throttle import auth_failure_throttled, client_address
from console.core.errors import ServiceError


class SignInForm(AuthenticationForm):
    """Django's sign-in form that says so when too many sign-ins have failed (the backend
    refuses them; this tells the user why, and for how long)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is not None:
            throttled = auth_failure_throttled(
                credential=username_credential(username), address=client_address(self.request)
            )
            if throttled is not None:
                raise ValidationError(throttled.message, code="throttled")
        return super().clean()


class SignInView(LoginView):
    authentication_form = SignInForm

    def form_invalid(self, form):
        throttled = form.has_error("__all__", code="throttled")
        response = self.render_to_response(
            self.get_context_data(form=form, throttled=throttled and form.non_field_errors()[0])
        )
        if throttled:
            response.status_code = 429
        return response


@login_required
def access_keys(request):
    return render(
        request, "accounts/access_keys.html", {"keys": access_key_list(user=request.user)}
    )


@login_required
@require_POST
def access_key_new(request):
    try:
        new = access_key_create(user=request.user, description=request.POST.get("description", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("access-keys")
    # Shown on this one response only; never stored in the session or shown again.
    return render(
        request,
        "accounts/access_keys.html",
        {"keys": access_key_list(user=request.user), "new_key": new},
    )


@login_required
@require_POST
def access_key_delete(request, access_key_id: str):
    try:
        access_key_revoke(user=request.user, access_key_id=access_key_id)
        messages.success(request, f"Access key {access_key_id} revoked.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("access-keys")
