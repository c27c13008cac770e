"""Framework glue that feeds the audit log: sign-ins and sign-outs from Django's auth
signals, lockouts from django-axes, and changes to the models that configure the business
(roles, users' roles, automation rules and templates, integrations) from model signals.

Only field names are recorded for secrets (passwords, tokens, keys), never their values.
"""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from oms.audit.middleware import current_request
from oms.audit.models import AuditEntry
from oms.audit.services import record_audit

Action = AuditEntry.Action

# Models whose every change is audited: label -> the fields worth recording (None: all but
# IGNORED). Labels of apps not installed, or models not built yet, are skipped.
TRACKED_MODELS: dict[str, tuple[str, ...] | None] = {
    "auth.group": None,
    "accounts.user": ("email", "password", "is_active", "is_staff", "is_superuser"),
    "automation.rule": None,
    "accounting.xeroconnection": ("status", "tenant_id", "org_name", "connected_by"),
    "accounting.accountmapping": None,
    "otp_totp.totpdevice": ("name", "confirmed"),
    "webhooks.webhookendpoint": (
        "url",
        "description",
        "event_types",
        "secret",
        "owner",
        "status",
        "archived_at",
    ),
    "api.apitoken": ("name", "user", "revoked_at", "revoked_by"),
    "django_celery_beat.periodictask": ("name", "task", "enabled", "interval", "crontab"),
}
IGNORED_FIELDS = {"id", "updated_at", "modified_at", "last_login", "last_used_at"}
SECRET_MARKERS = ("password", "token", "secret", "key")


def _request():
    return current_request.get()


def _actor():
    request = _request()
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# --- sign-in and sign-out -------------------------------------------------------------


def on_logged_in(sender, request, user, **kwargs) -> None:
    record_audit(Action.LOGIN, request=request, actor=user, target=user)


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record_audit(Action.LOGOUT, request=request, actor=user, target=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """Names the email tried, never the password, and never whether such an account exists."""
    from oms.accounts.lockout import attempted_email

    action = Action.OTP_FAILED if credentials.get("stage") == "code" else Action.LOGIN_FAILED
    record_audit(action, request=request, email=attempted_email(request, credentials))


def on_locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    record_audit(Action.LOCKED_OUT, request=request, email=username or "")


# --- configuration models ---------------------------------------------------------------


def _watched(instance) -> list[str]:
    fields = TRACKED_MODELS[instance._meta.label_lower]
    if fields is not None:
        return [instance._meta.get_field(name).attname for name in fields]
    return [
        field.attname
        for field in instance._meta.concrete_fields
        if field.attname not in IGNORED_FIELDS
    ]


def _is_secret(name: str) -> bool:
    return any(marker in name for marker in SECRET_MARKERS)


def snapshot_before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None or instance._state.adding:
        return
    watched = _watched(instance)
    if not watched:
        return
    if update_fields is not None:
        names = {instance._meta.get_field(name).attname for name in update_fields}
        watched = [name for name in watched if name in names]
        if not watched:
            return  # e.g. only last_login moved
    instance._audit_before = sender._base_manager.filter(pk=instance.pk).values(*watched).first()


def record_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    if created:
        record_audit(Action.CREATED, request=_request(), actor=_actor(), target=instance)
        return
    before = instance.__dict__.pop("_audit_before", None)
    if not before:
        return
    changes = {}
    for name, old in before.items():
        new = getattr(instance, name)
        if old != new:
            changes[name] = "(changed)" if _is_secret(name) else [old, new]
    if changes:
        record_audit(
            Action.CHANGED, request=_request(), actor=_actor(), target=instance, changes=changes
        )


def record_deleted(sender, instance, **kwargs) -> None:
    record_audit(Action.DELETED, request=_request(), actor=_actor(), target=instance)


def record_roles_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """A user's roles (groups) changed, from either side of the relation."""
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    if reverse:  # group.user_set.add(...): one entry per user
        users = model._base_manager.filter(pk__in=pk_set or [])
        for user in users:
            record_audit(
                Action.ROLES_CHANGED,
                request=_request(),
                actor=_actor(),
                target=user,
                **{verb: [instance.name]},
            )
        return
    names = list(model._base_manager.filter(pk__in=pk_set or []).values_list("name", flat=True))
    record_audit(
        Action.ROLES_CHANGED, request=_request(), actor=_actor(), target=instance, **{verb: names}
    )


def record_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """A role's permissions changed (the Group side; the Permission side is not edited)."""
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    codenames = list(
        model._base_manager.filter(pk__in=pk_set or []).values_list("codename", flat=True)
    )
    record_audit(
        Action.CHANGED,
        request=_request(),
        actor=_actor(),
        target=instance,
        permissions={verb: sorted(codenames)},
    )


def tracked_models() -> list:
    found = []
    for label in TRACKED_MODELS:
        try:
            found.append(apps.get_model(label))
        except LookupError:
            continue
    return found


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="audit.logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit.logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
    from axes.signals import user_locked_out

    user_locked_out.connect(on_locked_out, dispatch_uid="audit.locked_out")
    for model in tracked_models():
        uid = f"audit.{model._meta.label_lower}"
        pre_save.connect(snapshot_before_save, sender=model, dispatch_uid=f"{uid}.pre")
        post_save.connect(record_saved, sender=model, dispatch_uid=f"{uid}.post")
        post_delete.connect(record_deleted, sender=model, dispatch_uid=f"{uid}.delete")
    user_model = apps.get_model("accounts.user")
    group_model = apps.get_model("auth.group")
    m2m_changed.connect(
        record_roles_changed, sender=user_model.groups.through, dispatch_uid="audit.roles"
    )
    m2m_changed.connect(
        record_permissions_changed,
        sender=group_model.permissions.through,
        dispatch_uid="audit.permissions",
    )
