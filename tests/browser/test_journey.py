"""A newcomer's journey through the admin page, in headless Chromium against a running box."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Box, shot

PASSWORD = "correct horse battery"


def test_first_run_then_a_fob_from_issue_to_lost_and_a_lockdown(box: Box, page: Any) -> None:
    page.goto(box.url + "/")
    assert page.url.endswith("/setup")  # no admin yet: the one-time setup code is the way in
    shot(page, "01-setup")
    page.fill("#f-code", "not-the-code")
    page.fill("#f-username", "principal")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    page.click("main button[type=submit]")
    assert page.url.endswith("/setup") and page.locator(".error").count() > 0
    page.fill("#f-code", box.setup_code)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    page.click("main button[type=submit]")
    if "/login" in page.url:
        page.fill("#f-username", "principal")
        page.fill("#f-password", PASSWORD)
        page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Front entrance')")
    shot(page, "02-dashboard")

    page.goto(box.url + "/fobs/issue")
    page.fill("#f-facility", "100")
    page.fill("#f-number", "4242")
    page.locator("#new-holder summary").click()  # a new holder, with their agency
    page.fill("#f-new_holder", "Officer <b>Test</b>")
    page.fill("#f-new_agency", "Casper Police Department")
    page.fill("#f-serial", "T-1")
    page.select_option("#f-group", "responders")
    shot(page, "03-issue-fob")
    page.click("main button[type=submit]")
    row = page.locator("tr", has_text="T-1")
    assert row.count() == 1 and "Officer <b>Test</b>" in row.inner_text()  # shown as text
    shot(page, "04-fobs")

    page.goto(box.url + "/reader")  # the simulated reader panel: the officer taps the fob
    page.select_option("#f-fob", "H10301:100:4242")
    page.locator("button", has_text="Present this fob").click()
    decision = page.locator("#result .decision")
    assert decision.inner_text().startswith("granted")
    shot(page, "05-reader-granted")
    page.goto(box.url + "/")
    page.wait_for_selector("td:has-text('H10301:100:4242')")
    assert "Granted: " in page.locator("tr", has_text="H10301:100:4242").first.inner_text()

    page.goto(box.url + "/fobs")
    page.locator("tr", has_text="T-1").locator("a", has_text="Change status").click()
    page.select_option("#f-status", "lost")
    page.fill("#f-reason", "reported lost at 03:00")
    shot(page, "06-mark-lost")
    page.click("main button[type=submit]")
    assert "lost" in page.locator("tr", has_text="T-1").inner_text()
    page.goto(box.url + "/reader")
    page.select_option("#f-fob", "H10301:100:4242")
    page.locator("button", has_text="Present this fob").click()
    assert page.locator("#result .decision").inner_text().startswith("denied (lost)")

    rows = "".join(f"H10301,50,{n},Officer {n},B-{n},responders\n" for n in range(1000))
    csv = box.config.parent / "thousand.csv"
    csv.write_text("format,facility,number,holder,serial,group\n" + rows)
    page.goto(box.url + "/fobs/import")
    page.set_input_files("#f-file", str(csv))
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Imported 1000 fob(s)")
    shot(page, "07-imported")
    out = box.doorward("swipe", "--format", "H10301", "--facility", "50", "--number", "999")
    assert out.splitlines()[-1].startswith("granted")

    page.goto(box.url + "/door")
    form = page.locator("form", has=page.locator("button", has_text="Put the door in lockdown"))
    form.locator("input[name=reason]").fill("police request")
    form.locator("button").click()
    shot(page, "08-lockdown-confirm")
    page.locator("button", has_text="Yes").click()
    page.wait_for_selector("text=lockdown")
    shot(page, "09-lockdown")
    out = box.doorward("swipe", "--format", "H10301", "--facility", "12", "--number", "3456")
    assert "denied (lockdown)" in out
    form = page.locator("form", has=page.locator("button", has_text="Lift lockdown"))
    form.locator("input[name=reason]").fill("all clear")
    form.locator("button").click()
    page.locator("button", has_text="Yes").click()
    out = box.doorward("swipe", "--format", "H10301", "--facility", "12", "--number", "3456")
    assert out.splitlines()[-1].startswith("granted")

    page.goto(box.url + "/events")  # who tried the lost fob? filter the log by its serial
    page.fill("#f-serial", "T-1")
    page.click("main form button[type=submit]")
    rows = page.locator("main table tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert texts and all("T-1" in t for t in texts)
    assert any("Denied: fob T-1" in t and "is reported lost" in t for t in texts)
    assert any("Granted: " in t for t in texts)
    shot(page, "10-events-filtered")

    for path, name in (
        ("/accountability", "11-accountability"),
        ("/holders", "12-holders"),
        ("/groups", "13-groups"),
        ("/settings", "14-door-settings"),
        ("/users", "15-users"),
        ("/api/v1/token", "16-api-token"),
    ):
        page.goto(box.url + path)
        assert page.locator("h1").count() >= 1, path
        shot(page, name)

    page.locator("form.signout button").click()  # and back in, as the principal would tomorrow
    assert "/login" in page.url
    page.fill("#f-username", "principal")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Front entrance')")
