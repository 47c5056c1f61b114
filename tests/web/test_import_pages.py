"""The import page, through real requests with real files: upload, column mapping, dry run,
import, rejects file, progress, the list of batches, and who may do any of it."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import get_settings
from flywheel.importers import uploads
from flywheel.importers import views as import_views
from flywheel.models.customers import Customer
from flywheel.models.enums import Role
from flywheel.models.importers import ImportBatch
from flywheel.models.receivables import Invoice
from flywheel.models.users import User
from tests.factories import make_customer
from tests.web.pages import audit_count, make_person, sign_in

CUSTOMERS_HEADER = ["客户编号", "客户名称", "客户等级", "区域", "付款条件", "备注"]
CUSTOMERS_ROWS = [
    ["C001", "华东机械有限公司", "大客户", "华东", "NET30", "老客户"],
    ["C002", "深圳电子科技", "成长", "华南", "月结60天", ""],
    ["C003", "坏数据公司", "超级", "华北", "NET30", "等级写错"],
]


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its uploads in its own folder."""
    folder = tmp_path / "uploads"
    monkeypatch.setattr(get_settings(), "upload_dir", folder)
    return folder


@pytest.fixture(autouse=True)
def background_in_test_session(app: FastAPI, session: Session) -> None:
    """Background imports use the test's session (rolled back at the end) instead of their
    own, which would commit for real."""

    @contextmanager
    def scope() -> Iterator[Session]:
        yield session

    app.dependency_overrides[import_views.background_sessions] = lambda: scope


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def customers_file(*, encoding: str = "gbk") -> bytes:
    return csv_bytes([CUSTOMERS_HEADER, *CUSTOMERS_ROWS], encoding=encoding)


def sign_in_as(
    client: TestClient, session: Session, role: Role = Role.FINANCE, username: str = "wang.fang"
) -> str:
    make_person(session, username, role=role)
    return sign_in(client, username)


def upload(client: TestClient, csrf: str, entity: str, name: str, content: bytes) -> str:
    """Upload through the form; returns the upload's id from the redirect."""
    answer = client.post(
        "/imports",
        data={"entity": entity, "csrf_token": csrf},
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    match = re.fullmatch(r"/imports/([A-Za-z0-9_-]{32})", location)
    assert match, location
    return match.group(1)


def mapped_fields(html: str) -> dict[str, str]:
    """Column header -> the field it feeds ("" when not imported), as the mapping table says."""
    return dict(re.findall(r'<tr data-column="([^"]*)" data-field="([^"]*)"', html))


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-count="(\w+)">([\d,]+)<', html)
    return {name: int(value.replace(",", "")) for name, value in found}


def rejected_rows(html: str) -> list[tuple[str, str, str]]:
    table = html.split('id="rejected-rows"', 1)
    if len(table) < 2:
        return []
    body = table[1].split("</table>", 1)[0]
    return [
        (row, column, reason.strip())
        for row, column, reason in re.findall(
            r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', body
        )
    ]


def customer_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def batch_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ImportBatch)) or 0


def run(client: TestClient, csrf: str, upload_id: str, step: str, **fields: str) -> str:
    answer = client.post(
        f"/imports/{upload_id}/{step}",
        data={"csrf_token": csrf, **fields},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/imports/{upload_id}#run"
    return str(client.get(f"/imports/{upload_id}").text)


# ------------------------------------------------------------------- upload and preview


def test_a_gbk_csv_with_chinese_headers_is_previewed_with_each_columns_field_and_the_unknown_flagged(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)

    upload_id = upload(client, csrf, "customers", "客户资料.csv", customers_file(encoding="gbk"))
    page = client.get(f"/imports/{upload_id}")

    assert page.status_code == 200
    assert mapped_fields(page.text) == {
        "客户编号": "code",
        "客户名称": "name",
        "客户等级": "tier",
        "区域": "region",
        "付款条件": "payment_terms",
        "备注": "",
    }
    skipped = page.text.split('id="skipped-columns"', 1)[1].split("</div>", 1)[0]
    assert "1 column will not be imported" in skipped
    assert "<strong>备注</strong>" in skipped
    assert 'id="missing-fields"' not in page.text
    assert "GBK/GB18030" in page.text
    assert "华东机械有限公司" in page.text  # the first rows are shown
    assert "深圳电子科技" in page.text
    assert "flywheel import customers &#39;客户资料.csv&#39;" in page.text


def test_a_required_field_without_a_column_is_flagged_and_choosing_its_column_maps_it(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    content = csv_bytes([["客户编号", "抬头", "区域"], ["C001", "华东机械有限公司", "华东"]])
    upload_id = upload(client, csrf, "customers", "accounts.csv", content)

    page = client.get(f"/imports/{upload_id}")
    missing = page.text.split('id="missing-fields"', 1)[1].split("</div>", 1)[0]
    assert "Customer name" in missing
    assert "<code>name</code>" in missing
    assert mapped_fields(page.text)["抬头"] == ""
    assert re.search(r'formaction="/imports/\w+/import"\s+disabled', page.text.replace("-", ""))

    answer = client.post(
        f"/imports/{upload_id}/mapping",
        data={"csrf_token": csrf, "col-0": "code", "col-1": "name", "col-2": "region"},
        follow_redirects=False,
    )

    assert answer.status_code == 303
    page = client.get(f"/imports/{upload_id}")
    assert mapped_fields(page.text) == {"客户编号": "code", "抬头": "name", "区域": "region"}
    assert 'id="missing-fields"' not in page.text
    assert "chosen by you" in page.text
    assert "--map &#39;抬头=name&#39;" in page.text  # the same override as the command line's


def test_moving_a_select_over_htmx_answers_the_mapping_part_and_gives_the_field_to_that_column(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    content = csv_bytes(
        [["客户编号", "客户名称", "简称"], ["C001", "华东机械有限公司", "华东机械"]]
    )
    upload_id = upload(client, csrf, "customers", "accounts.csv", content)

    # The user picks "name" for 简称 while 客户名称 still shows "name".
    answer = client.post(
        f"/imports/{upload_id}/mapping",
        data={
            "csrf_token": csrf,
            "col-0": "code",
            "col-1": "name",
            "col-2": "name",
            "changed": "2",
        },
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert answer.text.lstrip().startswith(("{#", '<section class="card" id="mapping">'))
    assert mapped_fields(answer.text) == {"客户编号": "code", "客户名称": "", "简称": "name"}
    assert 'id="run" hidden hx-swap-oob="true"' in answer.text


def test_one_field_for_two_columns_without_saying_which_is_refused_naming_the_field(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())

    answer = client.post(
        f"/imports/{upload_id}/mapping",
        data={"csrf_token": csrf, "col-0": "code", "col-1": "name", "col-5": "name"},
    )

    assert answer.status_code == 422
    error = answer.text.split('id="mapping-error"', 1)[1].split("</div>", 1)[0]
    assert "Customer name (name) is chosen for more than one column: 客户名称, 备注." in error
    # what the user chose stays on the form
    assert re.search(r'name="col-5".*?<option value="name" selected>', answer.text, re.S)
    page = client.get(f"/imports/{upload_id}")
    assert mapped_fields(page.text)["备注"] == ""  # nothing saved


def test_an_unreadable_or_too_large_file_is_refused_next_to_the_file_field_and_not_kept(
    client: TestClient, session: Session, upload_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = sign_in_as(client, session)

    old_excel = client.post(
        "/imports",
        data={"entity": "customers", "csrf_token": csrf},
        files={"file": ("old.xls", b"\xd0\xcf\x11\xe0 not really", "application/vnd.ms-excel")},
    )
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1024 * 1024)
    too_large = client.post(
        "/imports",
        data={"entity": "customers", "csrf_token": csrf},
        files={"file": ("big.csv", b"a,b\n" + b"1,2\n" * 300_000, "text/csv")},
    )
    no_entity = client.post(
        "/imports",
        data={"entity": "", "csrf_token": csrf},
        files={"file": ("customers.csv", customers_file(), "text/csv")},
    )

    assert old_excel.status_code == 422
    assert "save old .xls workbooks as .xlsx" in old_excel.text
    assert 'id="file-error"' in old_excel.text
    assert too_large.status_code == 413
    assert "The file is larger than 1 MB" in too_large.text
    assert no_entity.status_code == 422
    assert 'id="entity-error">Choose what the file holds.' in no_entity.text
    assert [p.name for p in upload_dir.iterdir()] == []


# ------------------------------------------------------------------- dry run and import


def test_a_dry_run_shows_exactly_the_rejected_row_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())
    before = (customer_count(session), batch_count(session), audit_count(session))

    page = run(client, csrf, upload_id, "dry-run")

    assert "Dry run: nothing was written" in page
    assert counts(page) == {"rows": 3, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert rejected_rows(page) == [
        ("4", "客户等级", "unknown value &#39;超级&#39; (accepted: key, growth, standard)")
    ]
    assert (customer_count(session), batch_count(session), audit_count(session)) == before
    assert "Import now, without the rejected row" in page


def test_the_import_writes_the_good_rows_and_the_rejects_file_holds_exactly_the_bad_one(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())

    page = run(client, csrf, upload_id, "import")

    assert counts(page) == {"rows": 3, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert 'data-committed="true"' in page
    imported = session.scalars(select(Customer).order_by(Customer.code)).all()
    assert [(c.code, c.name, c.tier, c.payment_terms) for c in imported] == [
        ("C001", "华东机械有限公司", "key", "NET30"),
        ("C002", "深圳电子科技", "growth", "EOM60"),
    ]
    batch = session.scalars(select(ImportBatch)).one()
    assert (batch.entity, batch.file_name, batch.rows, batch.inserted, batch.rejected) == (
        "customers",
        "customers.csv",
        3,
        2,
        1,
    )
    assert batch.actor_name == "wang.fang"

    download = client.get(f"/imports/{upload_id}/rejects.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rejects = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rejects == [
        ["row", "column", "reason", *CUSTOMERS_HEADER],
        [
            "4",
            "客户等级",
            "unknown value '超级' (accepted: key, growth, standard)",
            *CUSTOMERS_ROWS[2],
        ],
    ]

    listing = client.get("/imports")
    row = listing.text.split(f'<tr data-batch="{batch.id}">', 1)[1].split("</tr>", 1)[0]
    assert "customers.csv" in row
    assert "wang.fang" in row
    assert f'href="/imports/batches/{batch.id}/rejects.csv"' in row
    kept = client.get(f"/imports/batches/{batch.id}/rejects.csv")
    assert kept.status_code == 200
    assert kept.content == download.content


def test_importing_the_same_file_again_duplicates_nothing(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    first = upload(client, csrf, "customers", "customers.csv", customers_file())
    run(client, csrf, first, "import")
    second = upload(client, csrf, "customers", "customers.csv", customers_file(encoding="utf-8"))

    page = run(client, csrf, second, "import")

    assert counts(page) == {"rows": 3, "inserted": 0, "updated": 0, "unchanged": 2, "rejected": 1}
    assert customer_count(session) == 2
    assert batch_count(session) == 2


def test_import_nothing_if_any_row_is_rejected_writes_nothing_and_says_so(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())
    before = (customer_count(session), batch_count(session), audit_count(session))

    page = run(client, csrf, upload_id, "import", strict="1")

    assert "Nothing imported: rows were rejected" in page
    assert 'data-committed="false"' in page
    assert len(rejected_rows(page)) == 1
    assert (customer_count(session), batch_count(session), audit_count(session)) == before


def test_an_xlsx_invoice_file_on_its_second_worksheet_imports_after_choosing_the_sheet(
    client: TestClient, session: Session
) -> None:
    make_customer(session, code="C100", name="华东机械有限公司")
    workbook = openpyxl.Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "说明"
    notes.append(["本文件为2026年6月发票"])
    sheet = workbook.create_sheet("发票")
    sheet.append(["发票号", "客户编号", "开票日期", "价税合计", "币种", "付款条件"])
    sheet.append(["INV-001", "C100", "2026-06-01", 11300.5, "CNY", "NET30"])
    sheet.append(["INV-002", "C100", "2026-06-15", "8,000.00", "CNY", "NET60"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "invoices", "6月发票.xlsx", buffer.getvalue())

    first_sheet = client.get(f"/imports/{upload_id}")
    assert 'id="missing-fields"' in first_sheet.text
    assert '<option value="发票"' in first_sheet.text
    client.post(
        f"/imports/{upload_id}/mapping",
        data={"csrf_token": csrf, "sheet": "发票"},
        follow_redirects=False,
    )
    page = run(client, csrf, upload_id, "import")

    assert counts(page) == {"rows": 2, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    invoices = session.scalars(select(Invoice).order_by(Invoice.number)).all()
    assert [(i.number, i.amount, i.currency) for i in invoices] == [
        ("INV-001", Decimal("11300.50"), "CNY"),
        ("INV-002", Decimal("8000.00"), "CNY"),
    ]
    assert 'href="/imports/' not in page.split('id="run"', 1)[1].split("</section>", 1)[0].replace(
        'href="/imports"', ""
    )  # no rejects to download


# ------------------------------------------------------------------------- progress


def test_the_progress_of_a_finished_run_reports_done_with_the_final_counts(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())
    run(client, csrf, upload_id, "import")

    answer = client.get(f"/imports/{upload_id}/progress", headers={"HX-Request": "true"})

    assert answer.status_code == 200
    assert 'data-phase="finished"' in answer.text
    assert "hx-trigger" not in answer.text  # the page stops polling
    assert counts(answer.text) == {
        "rows": 3,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }


def test_a_big_file_is_imported_in_the_background_while_the_page_polls_its_progress(
    app: FastAPI, client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "INLINE_ROWS", 0)  # every file counts as big
    go = threading.Event()

    @contextmanager
    def held_scope() -> Iterator[Session]:
        assert go.wait(30), "the test never let the import start"
        yield session

    app.dependency_overrides[import_views.background_sessions] = lambda: held_scope
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())

    run(client, csrf, upload_id, "import")
    while_running = client.get(f"/imports/{upload_id}/progress", headers={"HX-Request": "true"})
    listing = client.get("/imports")
    go.set()
    uploads.wait_for(uploads.UploadStore.default().get(upload_id, owner=_actor(session)))
    done = client.get(f"/imports/{upload_id}/progress", headers={"HX-Request": "true"})

    assert 'data-phase="queued"' in while_running.text
    assert 'hx-trigger="every 1s"' in while_running.text
    assert 'role="progressbar"' in while_running.text
    assert '<tr class="running">' in listing.text
    assert 'data-phase="finished"' in done.text
    assert "hx-trigger" not in done.text
    assert counts(done.text)["inserted"] == 2
    assert customer_count(session) == 2


def _actor(session: Session, username: str = "wang.fang") -> Actor:
    user = session.scalars(select(User).where(User.username == username)).one()
    return Actor.for_user(user)


# --------------------------------------------------------------------- who may do what


@pytest.mark.parametrize("role", [Role.SALES, Role.COLLECTOR, Role.VIEWER])
def test_roles_without_the_import_permission_get_403_and_nothing_is_written(
    app: FastAPI, client: TestClient, session: Session, role: Role, upload_dir: Path
) -> None:
    owner_csrf = sign_in_as(client, session, Role.ADMIN, "admin.li")
    upload_id = upload(client, owner_csrf, "customers", "customers.csv", customers_file())
    with TestClient(app) as other:
        csrf = sign_in_as(other, session, role, "someone")
        before = (customer_count(session), batch_count(session), audit_count(session))
        kept = sorted(p.name for p in upload_dir.iterdir())

        answers = [
            other.get("/imports"),
            other.post(
                "/imports",
                data={"entity": "customers", "csrf_token": csrf},
                files={"file": ("customers.csv", customers_file(), "text/csv")},
            ),
            other.get(f"/imports/{upload_id}"),
            other.post(f"/imports/{upload_id}/dry-run", data={"csrf_token": csrf}),
            other.post(f"/imports/{upload_id}/import", data={"csrf_token": csrf}),
            other.get(f"/imports/{upload_id}/progress"),
            other.get("/imports/template/customers.csv"),
        ]

        assert [a.status_code for a in answers] == [403] * len(answers)
        assert "<form" not in answers[0].text.split("<main", 1)[1].split("</main>", 1)[0]
        assert (customer_count(session), batch_count(session), audit_count(session)) == before
        assert sorted(p.name for p in upload_dir.iterdir()) == kept


def test_another_importer_cannot_reach_someone_elses_upload(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    owner_csrf = sign_in_as(client, session, Role.FINANCE, "wang.fang")
    upload_id = upload(client, owner_csrf, "customers", "customers.csv", customers_file())
    run(client, owner_csrf, upload_id, "dry-run")
    with TestClient(app) as other:
        csrf = sign_in_as(other, session, Role.MANAGER, "zhao.lei")
        before = (customer_count(session), batch_count(session), audit_count(session))

        answers = [
            other.get(f"/imports/{upload_id}"),
            other.get(f"/imports/{upload_id}/progress"),
            other.get(f"/imports/{upload_id}/rejects.csv"),
            other.post(f"/imports/{upload_id}/mapping", data={"csrf_token": csrf, "col-5": "name"}),
            other.post(f"/imports/{upload_id}/dry-run", data={"csrf_token": csrf}),
            other.post(f"/imports/{upload_id}/import", data={"csrf_token": csrf}),
            other.post(f"/imports/{upload_id}/discard", data={"csrf_token": csrf}),
            other.get("/imports/not-an-upload-id-at-all"),
        ]

        assert [a.status_code for a in answers] == [404] * len(answers)
        assert (customer_count(session), batch_count(session), audit_count(session)) == before
        assert upload_id not in other.get("/imports").text
    assert client.get(f"/imports/{upload_id}").status_code == 200  # still the owner's


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())

    answer = client.post(f"/imports/{upload_id}/import", data={})

    assert answer.status_code == 403
    assert customer_count(session) == 0


def test_discarding_an_upload_removes_its_file(
    client: TestClient, session: Session, upload_dir: Path
) -> None:
    csrf = sign_in_as(client, session)
    upload_id = upload(client, csrf, "customers", "customers.csv", customers_file())
    assert (upload_dir / upload_id / "customers.csv").is_file()

    answer = client.post(
        f"/imports/{upload_id}/discard", data={"csrf_token": csrf}, follow_redirects=False
    )

    assert answer.status_code == 303
    assert not (upload_dir / upload_id).exists()
    assert client.get(f"/imports/{upload_id}").status_code == 404


def test_the_empty_template_in_chinese_comes_back_fully_recognised(
    client: TestClient, session: Session
) -> None:
    make_person(session, "chen.jing", role=Role.MANAGER, language="zh")
    csrf = sign_in(client, "chen.jing")

    template = client.get("/imports/template/invoices.csv")
    headers = next(csv.reader(io.StringIO(template.content.decode("utf-8-sig"))))
    upload_id = upload(client, csrf, "invoices", "发票模板.csv", template.content)
    page = client.get(f"/imports/{upload_id}")

    assert template.headers["content-type"].startswith("text/csv")
    assert headers == [
        "发票号",
        "客户编号",
        "订单号",
        "开票日期",
        "到期日",
        "付款条件",
        "价税合计",
        "币种",
        "分期金额",
    ]
    assert '<html lang="zh-CN">' in page.text
    assert mapped_fields(page.text) == {
        "发票号": "number",
        "客户编号": "customer",
        "订单号": "order",
        "开票日期": "issue_date",
        "到期日": "due_date",
        "付款条件": "payment_terms",
        "价税合计": "amount",
        "币种": "currency",
        "分期金额": "installment_amount",
    }


def test_a_run_the_importer_refuses_says_why_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    csrf = sign_in_as(client, session)
    content = csv_bytes([["客户编号", "抬头"], ["C001", "华东机械有限公司"]])
    upload_id = upload(client, csrf, "customers", "accounts.csv", content)
    before = (customer_count(session), batch_count(session), audit_count(session))

    page = run(client, csrf, upload_id, "import")  # a hand-made post past the disabled button

    run_part = page.split('id="run"', 1)[1].split("</section>", 1)[0]
    assert 'data-phase="failed"' in run_part
    assert "The import failed; nothing was written" in run_part
    assert "required column missing: name" in run_part
    assert (customer_count(session), batch_count(session), audit_count(session)) == before
