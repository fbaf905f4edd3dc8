"""Who may do what: the signed-in principal, the four roles and the permissions each role grants.

Pure rules, no database: every service that reads or changes something a role restricts calls
``require`` first, so hiding a page in the app is never the only protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

from storage.errors import PermissionDenied

__all__ = [
    "Permission",
    "PermissionDenied",
    "Principal",
    "ROLE_PERMISSIONS",
    "USER_ROLES",
    "UserRole",
    "allows",
    "require",
    "require_unless_command_line",
]

UserRole = Literal["agent", "coach", "compliance", "admin"]
USER_ROLES: tuple[UserRole, ...] = get_args(UserRole)


class Permission(StrEnum):
    LOOKUP_CUSTOMERS = "lookup_customers"  # find a customer and read their history on every channel
    REPLAY_CALLS = "replay_calls"  # play any call and read its transcript and comments
    VIEW_OWN_EVALUATIONS = "view_own_evaluations"  # and acknowledge or dispute them
    VIEW_ALL_CALLS = "view_all_calls"  # browse every call and every evaluation
    SCORE_CALLS = "score_calls"
    COMMENT_CALLS = "comment_calls"
    VIEW_AGENT_OVERVIEWS = "view_agent_overviews"
    SEARCH_ALL = "search_all"  # search transcripts across customers
    EXPORT = "export"  # transcripts and the audit log as files
    READ_AUDIT_LOG = "read_audit_log"
    MANAGE_USERS = "manage_users"
    MANAGE_SETTINGS = "manage_settings"  # scorecard forms included
    MANAGE_VOICEPRINTS = "manage_voiceprints"  # enrol, list and remove agents' voiceprints
    VIEW_COMPLIANCE = "view_compliance"  # retention policies and legal holds
    MANAGE_COMPLIANCE = "manage_compliance"  # decide retention, place and release holds, erase customers
    # Original audio and what redaction replaced in a transcript, each read with a reason.
    READ_UNREDACTED = "read_unredacted"
    # Review merge suggestions (their evidence names identities), merge customers and undo merges.
    MERGE_CUSTOMERS = "merge_customers"
    # Accept or correct a conversation's suggested contact reason and outcome.
    LABEL_CONTACTS = "label_contacts"


_AGENT = frozenset(
    {
        Permission.LOOKUP_CUSTOMERS,
        Permission.REPLAY_CALLS,
        Permission.VIEW_OWN_EVALUATIONS,
        Permission.LABEL_CONTACTS,
    }
)
_COACH = _AGENT | {
    Permission.VIEW_ALL_CALLS,
    Permission.SCORE_CALLS,
    Permission.COMMENT_CALLS,
    Permission.VIEW_AGENT_OVERVIEWS,
}
_COMPLIANCE = _COACH | {
    Permission.SEARCH_ALL,
    Permission.EXPORT,
    Permission.READ_AUDIT_LOG,
    Permission.VIEW_COMPLIANCE,
    Permission.MANAGE_COMPLIANCE,
    Permission.READ_UNREDACTED,
    Permission.MERGE_CUSTOMERS,
}
# Admins run the system but do not decide what is deleted or held: they see policies and holds only.
_ADMIN = (_COMPLIANCE - {Permission.MANAGE_COMPLIANCE}) | {
    Permission.MANAGE_USERS,
    Permission.MANAGE_SETTINGS,
    Permission.MANAGE_VOICEPRINTS,
}

# Each role has everything the role before it has, as the issue defines them, except that deleting
# and holding data is compliance's decision alone.
ROLE_PERMISSIONS: dict[UserRole, frozenset[Permission]] = {
    "agent": _AGENT,
    "coach": _COACH,
    "compliance": _COMPLIANCE,
    "admin": _ADMIN,
}


@dataclass(frozen=True)
class Principal:
    """A signed-in user as services see them; made only by ``storage.users`` after a sign-in."""

    user_id: int
    username: str
    role: UserRole
    agent_id: int | None  # the PBX agent whose calls and evaluations are this user's own
    # The review-app session the sign-in opened (``storage.app_sessions``); None for a principal made
    # outside a sign-in, which no session check accepts.
    session_id: int | None = None


def allows(principal: Principal, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[principal.role]


def require(principal: Principal, permission: Permission) -> None:
    if not allows(principal, permission):
        roles = [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]
        raise PermissionDenied(
            f"{principal.username} ({principal.role}) may not {permission.value.replace('_', ' ')}; "
            f"that needs the role {' or '.join(roles)}"
        )


def require_unless_command_line(who: Principal | None, permission: Permission) -> None:
    """``require`` for the read services the ``earshot`` command calls too, with ``who`` None: whoever
    runs it holds the database file itself, so no role applies; the audit log names the command line."""
    if who is not None:
        require(who, permission)
