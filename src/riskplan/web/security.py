"""Who may do what, and passwords.

The roster is secret until the visits happen (四不两直): visit dates, teams, the inspectors'
schedule and every plan file are served only to the roles with `see_secret`; the tiers and the
public files to everyone signed in. Passwords are hashed with argon2 (argon2-cffi's defaults).
"""

from __future__ import annotations

import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from riskplan.i18n import N_

#: Each role's permissions. admin: everything and the accounts; planner: the whole quarter;
#: chief: reads everything, approves (makes) the publication; inspector and viewer: tiers and
#: public files only.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"see_secret", "edit", "publish", "audit", "users"}),
    "planner": frozenset({"see_secret", "edit", "publish", "audit"}),
    "chief": frozenset({"see_secret", "publish", "audit"}),
    "inspector": frozenset(),
    "viewer": frozenset(),
}
ROLE_LABELS = {"admin": N_("administrator"), "planner": N_("planner"), "chief": N_("chief"),
               "inspector": N_("inspector"), "viewer": N_("viewer")}
MIN_PASSWORD = 8

_hasher = PasswordHasher()


def may(role: str | None, permission: str) -> bool:
    return role is not None and permission in PERMISSIONS.get(role, frozenset())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


#: Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
DUMMY_HASH = _hasher.hash("not a password of anyone")


def same_token(a: str | None, b: str | None) -> bool:
    """CSRF tokens compared in constant time; a missing one never matches."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
