"""Which pages each role sees, in menu order. The pages check the role again when they run, and the
storage services check it underneath; this only keeps the menu to what the user may open."""

from __future__ import annotations

from dataclasses import dataclass

from storage.access import Permission, Principal, allows

__all__ = ["PAGES", "QUALITY_PAGE", "PageSpec", "pages_for"]


@dataclass(frozen=True)
class PageSpec:
    # Relative to review_app/. The folder is not called pages/: Streamlit would treat that as an
    # old-style multipage app and run its scripts without this router (and without its sign-in).
    script: str
    title: str
    icon: str
    needs: Permission


QUALITY_PAGE = "views/quality.py"  # its menu entry counts the disputes waiting for the user
PAGES = (
    PageSpec("views/customer.py", "Customers", ":material/person_search:", Permission.LOOKUP_CUSTOMERS),
    PageSpec("views/followups.py", "My follow-ups", ":material/task_alt:", Permission.LOOKUP_CUSTOMERS),
    PageSpec("views/call.py", "Calls", ":material/headphones:", Permission.REPLAY_CALLS),
    PageSpec("views/call_list.py", "Call list", ":material/format_list_bulleted:", Permission.VIEW_ALL_CALLS),
    PageSpec("views/search.py", "Search", ":material/manage_search:", Permission.SEARCH_ALL),
    PageSpec(QUALITY_PAGE, "Quality", ":material/fact_check:", Permission.VIEW_OWN_EVALUATIONS),
    PageSpec("views/team.py", "Team", ":material/groups:", Permission.VIEW_AGENT_OVERVIEWS),
    PageSpec("views/response_times.py", "Response times", ":material/timer:", Permission.LOOKUP_CUSTOMERS),
    PageSpec("views/figures.py", "Figures", ":material/monitoring:", Permission.VIEW_AGENT_OVERVIEWS),
    PageSpec("views/audit.py", "Audit log", ":material/policy:", Permission.READ_AUDIT_LOG),
    PageSpec("views/compliance.py", "Compliance", ":material/gavel:", Permission.VIEW_COMPLIANCE),
    PageSpec("views/admin.py", "Admin", ":material/admin_panel_settings:", Permission.MANAGE_USERS),
)


def pages_for(principal: Principal) -> list[PageSpec]:
    return [page for page in PAGES if allows(principal, page.needs)]
