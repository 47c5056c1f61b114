"""Uploads kept between the steps of the import page: names, owners, the column mapping turned
into ``--map`` options, the run's state, and cleaning up; and ``--map COLUMN=`` itself."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ImportFailed
from flywheel.importers import uploads
from flywheel.importers.fields import ENTITIES
from flywheel.importers.runner import match_columns, parse_map_options
from flywheel.importers.uploads import MappingConflict, UploadNotFound, UploadStore
from flywheel.models.customers import Customer
from flywheel.models.enums import Role
from tests.importers.conftest import ImportFn, write_csv

OWNER = Actor(name="wang.fang", role=Role.FINANCE, user_id=7)
OTHER = Actor(name="zhao.lei", role=Role.MANAGER, user_id=8)
CUSTOMERS = ENTITIES["customers"]


def csv_source(rows: list[list[str]]) -> io.BytesIO:
    return io.BytesIO("\r\n".join(",".join(r) for r in rows).encode("utf-8"))


def test_map_with_an_empty_field_leaves_a_recognised_column_out(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "customers.csv",
        [["客户编号", "客户名称", "区域"], ["C001", "华东机械", "华东"]],
    )

    result = run_import("customers", path, mapping=["区域="])

    assert result.ignored_columns == ["区域"]
    customer = session.scalars(select(Customer).where(Customer.code == "C001")).one()
    assert customer.region is None


def test_map_naming_one_field_for_two_columns_is_refused() -> None:
    headers = ["客户编号", "客户名称", "简称"]

    with pytest.raises(ImportFailed, match="'name' for two columns: '客户名称' and '简称'"):
        match_columns(CUSTOMERS, headers, parse_map_options(["客户名称=name", "简称=name"]))


def test_choices_become_the_fewest_map_options_that_read_the_file_so() -> None:
    headers = ["客户编号", "抬头", "区域", "备注"]

    mapping = uploads.mapping_from_choices(CUSTOMERS, headers, {0: "code", 1: "name", 2: "", 3: ""})

    assert mapping == ["抬头=name", "区域="]
    columns, ignored = match_columns(CUSTOMERS, headers, parse_map_options(mapping))
    assert columns == {"code": 0, "name": 1}
    assert ignored == ["区域", "备注"]


def test_the_column_just_changed_takes_the_field_from_the_other_one() -> None:
    headers = ["客户编号", "客户名称", "简称"]

    mapping = uploads.mapping_from_choices(
        CUSTOMERS, headers, {0: "code", 1: "name", 2: "name"}, changed=2
    )

    columns, ignored = match_columns(CUSTOMERS, headers, parse_map_options(mapping))
    assert columns == {"code": 0, "name": 2}
    assert ignored == ["客户名称"]


def test_one_field_for_two_columns_without_a_changed_one_is_a_conflict() -> None:
    with pytest.raises(MappingConflict, match="name is chosen for more than one column"):
        uploads.mapping_from_choices(
            CUSTOMERS, ["客户编号", "客户名称", "简称"], {0: "code", 1: "name", 2: "name"}
        )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\王芳\\Desktop\\6月发票.xlsx", "6月发票.xlsx"),
        ("../../etc/passwd", "passwd"),
        ('a<b>:"c|d?.csv', "a_b___c_d_.csv"),
        ("", "upload.csv"),
        ("..", "upload.csv"),
    ],
)
def test_the_file_keeps_its_own_name_without_folders_or_unsafe_characters(
    sent: str, kept: str
) -> None:
    assert uploads.safe_file_name(sent) == kept


def test_an_upload_is_found_only_by_its_owner_and_only_by_a_well_formed_id(
    tmp_path: Path,
) -> None:
    store = UploadStore(tmp_path)
    created = store.create(
        owner=OWNER,
        entity="customers",
        file_name="customers.csv",
        source=csv_source([["客户编号", "客户名称"], ["C001", "华东机械"]]),
    )

    assert store.get(created.id, owner=OWNER).file_name == "customers.csv"
    with pytest.raises(UploadNotFound):
        store.get(created.id, owner=OTHER)
    with pytest.raises(UploadNotFound):
        store.get("../" + created.id[3:], owner=OWNER)
    assert len(created.id) == 32


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)

    with pytest.raises(uploads.UploadTooLarge):
        store.create(
            owner=OWNER,
            entity="customers",
            file_name="big.csv",
            source=io.BytesIO(b"x" * 5000),
            max_bytes=4096,
        )

    assert list(tmp_path.iterdir()) == []


def test_uploads_older_than_a_day_are_cleaned_up_unless_being_imported(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    source = [["客户编号", "客户名称"], ["C001", "华东机械"]]
    old = store.create(
        owner=OWNER, entity="customers", file_name="a.csv", source=csv_source(source)
    )
    running = store.create(
        owner=OWNER, entity="customers", file_name="b.csv", source=csv_source(source)
    )
    fresh = store.create(
        owner=OWNER, entity="customers", file_name="c.csv", source=csv_source(source)
    )
    for aged in (old, running):
        aged.created_at -= timedelta(hours=25)
        store.save(aged)
    state = uploads._new_state(actor=OWNER, dry_run=False, strict=False)
    state.phase = "importing"  # by this very process, which is alive
    uploads.write_state(running, state)
    uploads._active[running.id] = threading.current_thread()
    try:
        removed = store.clean_up(now=datetime.now(UTC))
    finally:
        uploads._active.pop(running.id, None)

    assert removed == 1
    assert not old.directory.exists()
    assert running.directory.exists()
    assert fresh.directory.exists()


def test_a_run_whose_process_is_gone_reads_as_failed(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    created = store.create(
        owner=OWNER,
        entity="customers",
        file_name="customers.csv",
        source=csv_source([["客户编号", "客户名称"], ["C001", "华东机械"]]),
    )
    state = uploads._new_state(actor=OWNER, dry_run=False, strict=False)
    state.phase = "importing"
    state.pid = 2**22 + 12345  # beyond Linux's pid range: no such process
    (created.directory / "run.json").write_text(json.dumps(state.to_dict()), encoding="utf-8")

    read = uploads.read_state(created)

    assert read is not None
    assert (read.phase, read.error) == (
        "failed",
        {
            "code": "interrupted",
            "message": "the server stopped during the run; nothing was written",
        },
    )
    assert not uploads.is_running(created)
