"""Inbox, rule pages for managers, and the sales decision queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from oms.accounts.roles import Role, has_role
from oms.automation import queries, services
from oms.automation.forms import RuleForm
from oms.automation.messages import PLACEHOLDERS
from oms.automation.models import Notification, Rule


def _ensure(user, *roles: Role) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied("Your role may not open this page.")


# --- inbox ----------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def inbox(request: HttpRequest) -> HttpResponse:
    context = {
        "notifications": queries.inbox_for(request.user),
        "unread": queries.unread_count(request.user),
    }
    if request.htmx:
        return render(request, "automation/inbox.html#inbox-list", context)
    return render(request, "automation/inbox.html", context)


@require_GET
@login_required
def inbox_badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the header; htmx polls it, so it refreshes without a reload."""
    return render(
        request,
        "automation/_inbox_badge.html",
        {"unread": queries.unread_count(request.user)},
    )


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    services.mark_read(notification, by=request.user)
    if request.htmx:
        return inbox(_as_get(request))
    target = notification.url
    if request.POST.get("open") and target and _safe(request, target):
        return redirect(target)
    return redirect("automation:inbox")


@require_POST
@login_required
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    services.mark_all_read(by=request.user)
    if request.htmx:
        return inbox(_as_get(request))
    return redirect("automation:inbox")


def _as_get(request: HttpRequest) -> HttpRequest:
    request.method = "GET"
    return request


def _safe(request: HttpRequest, url: str) -> bool:
    from django.conf import settings

    hosts = {request.get_host(), settings.SITE_URL.split("://", 1)[-1].split("/")[0]}
    return url_has_allowed_host_and_scheme(url, allowed_hosts=hosts)


# --- rules (managers) --------------------------------------------------------------------------


@require_GET
@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    _ensure(request.user, Role.MANAGER)
    return render(request, "automation/rule_list.html", {"groups": queries.rules_by_sequence()})


@require_http_methods(["GET", "POST"])
@login_required
def rule_create(request: HttpRequest) -> HttpResponse:
    _ensure(request.user, Role.MANAGER)
    form = RuleForm(request.POST or None, initial={"channel": Rule.Channel.EMAIL})
    if request.method == "POST" and form.is_valid():
        rule = services.save_rule(form.save(commit=False), by=request.user)
        messages.success(request, f"Rule “{rule.name}” added.")
        return redirect("automation:rules")
    context = {"form": form, "rule": None, "placeholders": PLACEHOLDERS}
    return render(request, "automation/rule_form.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure(request.user, Role.MANAGER)
    rule = get_object_or_404(Rule, pk=pk)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        rule = services.save_rule(form.save(commit=False), by=request.user)
        messages.success(request, f"Rule “{rule.name}” saved.")
        return redirect("automation:rules")
    context = {"form": form, "rule": rule, "placeholders": PLACEHOLDERS}
    return render(request, "automation/rule_form.html", context)


@require_POST
@login_required
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure(request.user, Role.MANAGER)
    rule = get_object_or_404(Rule, pk=pk)
    rule = services.set_rule_enabled(rule, by=request.user, enabled=not rule.enabled)
    messages.success(request, f"Rule “{rule.name}” switched {'on' if rule.enabled else 'off'}.")
    return redirect("automation:rules")


# --- decision queue (sales) -----------------------------------------------------------------------


@require_GET
@login_required
def decision_queue(request: HttpRequest) -> HttpResponse:
    _ensure(request.user, Role.SALES)
    quotes = queries.quotes_needing_decision(request.user)
    return render(request, "automation/decision_queue.html", {"quotes": quotes})
