"""In Chromium, under the enforced Content Security Policy: a manager uploads a sheet,
matches columns, reads the preview, runs it skipping the invalid row, and watches the
progress partial swap itself to the summary when the worker finishes."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from oms.accounts.roles import Role
from oms.imports.models import ImportJob
from oms.imports.tasks import run_import_job
from orders.models import Product
from tests.conftest import PASSWORD, make_user
from tests.imports.conftest import csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def boss(django_user_model):
    # Flushing between transactional tests empties the role groups the migration made.
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    return make_user(django_user_model, "bea.boss@example.com", Role.MANAGER)


def test_manager_imports_a_sheet_and_watches_it_finish(
    live_server, browser, boss, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_INLINE_MAX_ROWS = 0  # this file goes to the worker
    sheet = tmp_path / "catalogue.csv"
    sheet.write_bytes(
        csv_bytes([["SKU", "Item", "Price"], ["A-1", "Anchor", "2.50"], ["B-2", "Bolt", "cheap"]])
    )
    problems: list[str] = []
    page = browser.new_page()
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + reverse("accounts:login"))
    page.fill("#id_username", boss.email)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(re.compile(r"^(?!.*login).*$"))

    page.get_by_role("link", name="Import", exact=True).first.click()
    page.select_option("#id_kind", "products")
    page.set_input_files("#id_file", str(sheet))
    page.get_by_role("button", name="Upload and match columns").click()
    expect(page.locator("#id_unit_price")).to_have_value("Price")
    page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("#preview-errors")).to_contain_text("Unit price 'cheap' is not a number.")
    expect(page.locator("#preview-rows")).to_contain_text("Anchor")
    page.check("#id_skip_invalid")
    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.locator("#import-progress")).to_have_attribute("data-status", "queued")

    job = ImportJob.objects.get()
    run_import_job.apply(args=(job.pk,))  # the worker's part, in this process
    # The polling partial swaps itself to the summary, no reload.
    expect(page.locator("#import-progress")).to_have_attribute("data-status", "done", timeout=15000)
    expect(page.locator("#import-progress")).to_contain_text("Unit price 'cheap' is not a number.")
    assert Product.objects.get().code == "A-1"
    assert not [p for p in problems if "Content Security Policy" in p or "Error" in p], problems
