"""Who may do what: the teacher (admin) runs the room, everyone else is a student.

The teacher frees memory, picks where GPU work runs, may use any Hub id, cancels anyone's run or
job and sets the class's limits (studio.class_rules). On a workstation with no teacher named, its
one user is the teacher. Anywhere others can reach (a share link, --listen, a Space), only the
logins named by --admin (or the auth file's admin lines) are; with none named, nobody is.
"""

from __future__ import annotations

import gradio as gr

from tabs import owner
from tabs.common import TabContext

HF_PREFIX = "hf-"  # tabs.owner's mark on a "Sign in with Hugging Face" name


def is_teacher(ctx: TabContext, request: gr.Request | None) -> bool:
    settings = ctx.settings
    admins = settings.admins()
    if not admins and not settings.is_exposed:
        return True
    user = owner.user_of(ctx, request)
    if user is None:
        return False
    return user in admins or (user.startswith(HF_PREFIX) and user[len(HF_PREFIX):] in admins)


def require_teacher(ctx: TabContext, request: gr.Request | None, what: str) -> None:
    """Refuse ``what`` (an i18n key naming the action) to a student, with a sentence."""
    if not is_teacher(ctx, request):
        say = ctx.t.for_request(request)
        raise gr.Error(say("roles.teacher_only").format(what=say(what)), print_exception=False)


def limits_for(ctx: TabContext, request: gr.Request | None):
    """The class's rules a requester must keep (studio.class_rules.ClassRules), or None for the teacher."""
    return None if is_teacher(ctx, request) else ctx.studio.class_rules


def login_check(settings) -> object:
    """Gradio's login for a class with a class password: a named login (--auth, the auth file)
    needs its own password; any other name enters with the class password, so a student can
    never enter under the teacher's name."""
    import hmac

    def check(username: str, password: str) -> bool:
        named = dict(settings.auth_pairs())
        if username in named:
            return hmac.compare_digest(named[username].encode(), str(password).encode())
        return bool(settings.class_password) and hmac.compare_digest(
            settings.class_password.encode(), str(password).encode())

    return check
