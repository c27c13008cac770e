from functools import cached_property

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from oms.accounts.roles import Role


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """A member of staff. Logs in by email; roles are groups (see oms.accounts.roles)."""

    username = None
    email = models.EmailField("email address", unique=True)
    notify_by_email = models.BooleanField(
        default=True, help_text="Also send in-app notifications by email."
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["first_name", "last_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def primary_role(self) -> str:
        if self.is_superuser:
            return "Admin"
        for role in (Role.MANAGER, Role.FINANCE, Role.OPERATIONS, Role.SALES):
            if role in self.role_names:
                return role.value
        return ""
