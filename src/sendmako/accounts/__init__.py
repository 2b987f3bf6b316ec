"""Accounts: users, their API keys and passwords, plans and daily usage.

The functions most callers need are here; each lives in the module named for what it does.
"""

from sendmako.accounts.auth import CREDENTIALS_TOPIC, Authenticator, CredentialsEpoch
from sendmako.accounts.first_admin import FirstAdmin, bootstrap_admin
from sendmako.accounts.keys import (
    MAX_ACTIVE_KEYS,
    PREFIX_LENGTH,
    NewKey,
    create_key,
    generate_key,
    hash_key,
    owned_key,
    revoke_key,
)
from sendmako.accounts.logins import close_login, end_logins, login_owner, open_login
from sendmako.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    PASSWORD_HASHER,
    Passwords,
    check_password_rules,
    generate_password,
)
from sendmako.accounts.users import create_user, normalize_email, set_disabled

__all__ = [
    "CREDENTIALS_TOPIC",
    "MAX_ACTIVE_KEYS",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_HASHER",
    "PREFIX_LENGTH",
    "Authenticator",
    "CredentialsEpoch",
    "FirstAdmin",
    "NewKey",
    "Passwords",
    "bootstrap_admin",
    "check_password_rules",
    "close_login",
    "create_key",
    "create_user",
    "end_logins",
    "generate_key",
    "generate_password",
    "hash_key",
    "login_owner",
    "normalize_email",
    "open_login",
    "owned_key",
    "revoke_key",
    "set_disabled",
]
