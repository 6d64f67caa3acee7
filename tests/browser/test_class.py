"""A class in Chromium: a teacher and a student, each in their own browser. The student sees no
Teacher tab and a greyed-out Free; the teacher sees the student's run and cancels it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_tab, small_image_settings
from tests.conftest import start_app, stop_app

CLASS_PASSWORD = "lantern"
TEACHER = ("teacher", "t-secret")


@pytest.fixture(scope="module")
def class_app(tiny_cache_dir, tmp_path_factory):
    app = start_app(["--host", "0.0.0.0", "--auth", ":".join(TEACHER), "--admin", TEACHER[0],
                     "--class-password", CLASS_PASSWORD], tiny_cache_dir, tmp_path_factory.mktemp("class-ui"),
                    timeout=180)
    yield app
    stop_app(app)


def wait_text(page, selector: str, text: str, timeout: float = 30_000) -> None:
    """Polled on a timer: two pages are open, and the one behind gets no animation frames."""
    page.wait_for_function("([selector, text]) => (document.querySelector(selector)?.innerText || '').includes(text)",
                           arg=[selector, text], timeout=timeout, polling=250)


def logged_in(browser, app, name: str, password: str):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(app.url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#studio-title")
    return context, page


def test_the_teacher_cancels_a_students_run_the_student_sees_no_teacher_tab(browser, class_app):
    teacher_context, teacher = logged_in(browser, class_app, *TEACHER)
    student_context, student = logged_in(browser, class_app, "mei", CLASS_PASSWORD)
    try:
        # The student: no Teacher tab, and Free is greyed out with the reason.
        student.wait_for_timeout(1500)  # the page's load events set what a student may see
        assert student.get_by_role("tab", name="Teacher").count() == 0
        open_tab(student, "Models")
        wait_text(student, "#models-freed", "Only the teacher")

        # The student starts a long run.
        open_tab(student, "Image")
        student.locator("#image-prompt textarea").fill("a long lantern run")
        small_image_settings(student, steps=60, number=1, side=1024)  # the most a student may: still drawing
        student.locator("#image-generate").click()
        wait_text(student, "#image-status", "step", timeout=60_000)

        # The teacher sees it and cancels it.
        open_tab(teacher, "Teacher")
        wait_text(teacher, "#admin-runs", "mei")
        teacher.locator("#admin-run-id input").click()
        teacher.get_by_role("option").filter(has_text="mei").first.click()
        teacher.locator("#admin-cancel-run").click()
        wait_text(teacher, "#admin-said", "stops at its next step")
        wait_text(student, "#image-status", "Cancelled", timeout=60_000)
    finally:
        teacher_context.close()
        student_context.close()
