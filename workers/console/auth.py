"""Who is signed in: a user of the settings (argon2 password), or the user a trusted
single-sign-on proxy names in a header. Sessions are signed cookies; every form carries
a CSRF token kept in the session."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from workers.console.config import STAFF_ROLES, ConsoleConfig

_HASHER = PasswordHasher()
# Verified when the user is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash(secrets.token_hex(16))
ROLES = ("viewer", "staff", "admin")


@dataclass(frozen=True)
class Staff:
    username: str
    role: str

    @property
    def sees_personal_data(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def may_act(self) -> bool:
        return self.role in STAFF_ROLES


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(config: ConsoleConfig, username: str, password: str) -> Staff | None:
    user = next((u for u in config.users if hmac.compare_digest(u.username, username)), None)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return Staff(user.username, user.role) if user else None


def signed_in(request: Request, config: ConsoleConfig) -> Staff | None:
    if config.sso_user_header:
        name = request.headers.get(config.sso_user_header, "").strip()
        if name:
            role = request.headers.get(config.sso_role_header or "", "").strip().lower()
            return Staff(name[:64], role if role in ROLES else config.sso_default_role)
        return None
    user = request.session.get("user")
    role = request.session.get("role")
    if isinstance(user, str) and role in ROLES and any(u.username == user for u in config.users):
        return Staff(user, role)
    return None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, presented: str | None) -> bool:
    expected = request.session.get("csrf")
    return isinstance(expected, str) and isinstance(presented, str) and hmac.compare_digest(expected, presented)
