from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@login_required
def home(request):
    """Each role lands on its own work first."""
    return render(request, "accounts/home.html", {"role": request.user.primary_role})
