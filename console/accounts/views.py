"""Console pages for the signed-in user's access keys."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.accounts.selectors import access_key_list
from console.accounts.services import access_key_create, access_key_revoke
from console.core.errors import ServiceError


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
