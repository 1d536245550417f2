"""View decorators for roles."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from matching.models import Role
from matching.permissions import is_coordinator


def role_required(role: Role):
    """Log-in required, then the role (coordinators pass for coordinator pages; admins too)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if role == Role.COORDINATOR:
                allowed = is_coordinator(current_user)
            else:
                allowed = current_user.has_role(role)
            if not allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
