"""Access to the API and the dashboard: keys, roles, session cookies (public surface).

FastAPI dependencies: `workspace_cursor` (a per-request workspace), `require_viewer`,
`require_admin`, `optional_principal`; `login` / `logout` set and clear the session
cookie. `create_key`, `revoke_key` and `list_keys` manage keys in a workspace.
"""

from __future__ import annotations

from cxmetrics.api._auth import (
    COOKIE,
    SESSION_SECONDS,
    login,
    logout,
    optional_principal,
    require_admin,
    require_viewer,
    workspace_cursor,
)
from cxmetrics.api._keys import ROLES, Principal, Role, create_key, list_keys, revoke_key, verify_token

__all__ = [
    "COOKIE",
    "ROLES",
    "SESSION_SECONDS",
    "Principal",
    "Role",
    "create_key",
    "list_keys",
    "login",
    "logout",
    "optional_principal",
    "require_admin",
    "require_viewer",
    "revoke_key",
    "verify_token",
    "workspace_cursor",
]
