from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from oms.accounts.forms import PreferencesForm
from oms.accounts.queries import home_panels, won_lost_summary
from oms.accounts.roles import Role, has_role


@require_GET
@login_required
def home(request):
    """Each role lands on its own work first: counts and short lists linking to full queues."""
    user = request.user
    context = {
        "role": user.primary_role,
        "greeting": _greeting(timezone.localtime().hour),
        "panels": home_panels(user),
        "summary": won_lost_summary(user) if has_role(user, Role.MANAGER) else None,
    }
    return render(request, "accounts/home.html", context)


def _greeting(hour: int) -> str:
    if hour < 12:
        return "Good morning"
    return "Good afternoon" if hour < 18 else "Good evening"


@require_GET
def health(request):
    """For load balancers and container health checks: the app answers and the database too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Each person chooses whether their in-app notifications also arrive by email."""
    form = PreferencesForm(
        request.POST if request.method == "POST" else None, instance=request.user
    )  # an unticked box posts nothing, so an empty POST is still a submission
    if request.method == "POST" and form.is_valid():
        form.save()  # a plain preference: no rule, no consequence
        messages.success(request, "Your preferences are saved.")
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})
