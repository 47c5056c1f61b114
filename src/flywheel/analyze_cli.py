"""``flywheel analyze``: the models on the user's own CSV exports, without any database."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table as RichTable

from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.errors import (
    AnalysisInputInvalid,
    ColumnMissing,
    FileUnreadable,
    FlywheelError,
    NotEnoughData,
    ValueUnparseable,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

app = typer.Typer(
    help="Run the credit, payment, sentiment and CLV models on your own CSV files (no database).",
    no_args_is_help=True,
)

DAYS_LATE_DEFINITION = (
    "days late = paid date − due date in calendar days; early payment counts as negative"
)
DEFAULT_TEST_SHARE = 0.3
DEFAULT_SPLIT_QUANTILE = 0.7


# ----------------------------------------------------------------------------- reading files


@dataclass
class TextTable:
    """A whole table as text columns, with the spreadsheet row number of every data row."""

    name: str
    headers: list[str]
    columns: dict[str, list[str | None]]
    row_numbers: list[int]

    def __len__(self) -> int:
        return len(self.row_numbers)

    def require(self, *names: str) -> None:
        missing = [name for name in names if name not in self.columns]
        if missing:
            raise ColumnMissing(
                f"{self.name} has no column {', '.join(repr(name) for name in missing)}; "
                f"its columns are: {', '.join(repr(h) for h in self.headers)}",
                file=self.name,
                missing=missing,
                columns=self.headers,
            )

    def row(self, position: int) -> int:
        return self.row_numbers[position]


def read_text_table(path: Path) -> TextTable:
    """Read a CSV (UTF-8, UTF-8 with BOM or GBK/GB18030; , TAB ; | delimiters) or XLSX file."""
    from flywheel.kit.tabular import open_table

    name = path.name
    if not path.is_file():
        raise FileUnreadable(f"{path} does not exist or is not a file", file=str(path))
    try:
        with open_table(path) as table:
            headers = list(table.headers)
            width = len(headers)
            unnamed = [index + 1 for index, header in enumerate(headers) if not header]
            if unnamed:
                raise AnalysisInputInvalid(
                    f"{name}: column {unnamed[0]} of the header row has no name; name every column",
                    file=name,
                )
            row_numbers: list[int] = []
            records: list[list[str | None]] = []
            for row_number, values in table.rows():
                if len(values) > width:
                    raise AnalysisInputInvalid(
                        f"{name}, row {row_number}: {len(values)} cells but the header names "
                        f"{width} columns",
                        file=name,
                        row=row_number,
                    )
                row_numbers.append(row_number)
                records.append([(value.strip() or None) if value else None for value in values])
    except FlywheelError:
        raise
    except (OSError, ValueError) as exc:
        raise FileUnreadable(str(exc), file=name) from None
    if not records:
        raise NotEnoughData(f"{name} has a header row but no data rows", file=name)
    # Every record has exactly one cell per header (kit.tabular pads short rows).
    transposed = zip(*records, strict=True)
    columns = {header: list(cells) for header, cells in zip(headers, transposed, strict=True)}
    return TextTable(name=name, headers=headers, columns=columns, row_numbers=row_numbers)


def _first_bad(mask: npt.NDArray[np.bool_]) -> int:
    import numpy as np

    return int(np.flatnonzero(mask)[0])


def parse_numbers(table: TextTable, column: str, *, required: bool) -> npt.NDArray[np.float64]:
    """The column as float64 (NaN for empty cells); amounts such as "1,234.50" or "¥100" are
    read too. Raises ValueUnparseable naming the first bad row."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]

    from flywheel.kit.parse import parse_amount

    text = pd.Series(table.columns[column], dtype=object)
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=np.float64)  # a copy
    empty = text.isna().to_numpy()
    if required and empty.any():
        position = _first_bad(empty)
        raise ValueUnparseable(
            f"{table.name}, row {table.row(position)}, column {column!r}: the cell is empty",
            file=table.name,
            row=table.row(position),
            column=column,
        )
    retry = np.flatnonzero(np.isnan(values) & ~empty)
    if len(retry):
        # "1,234.50", "¥100", "1.5万": each distinct text is read once.
        codes, uniques = pd.factorize(text.iloc[retry])
        parsed = np.empty(len(uniques), dtype=np.float64)
        for index, cell in enumerate(uniques):
            try:
                parsed[index] = float(parse_amount(str(cell)))
            except ValueError as exc:
                position = int(retry[_first_bad(np.asarray(codes) == index)])
                raise ValueUnparseable(
                    f"{table.name}, row {table.row(position)}, column {column!r}: "
                    f"{cell!r} is not a number ({exc})",
                    file=table.name,
                    row=table.row(position),
                    column=column,
                    value=str(cell),
                ) from None
        values[retry] = parsed[np.asarray(codes)]
    return values


def parse_dates(table: TextTable, column: str, *, required: bool) -> npt.NDArray[np.datetime64]:
    """The column as datetime64[D] (NaT for empty cells, allowed unless ``required``); each
    distinct text is read once with ``kit.parse.parse_date`` (2026-03-01, 2026/3/1,
    2026年3月1日, Excel day numbers …)."""
    import numpy as np
    import pandas as pd

    from flywheel.kit.parse import parse_date

    text = pd.Series(table.columns[column], dtype=object)
    empty = text.isna().to_numpy()
    if required and empty.any():
        position = _first_bad(empty)
        raise ValueUnparseable(
            f"{table.name}, row {table.row(position)}, column {column!r}: the date is empty",
            file=table.name,
            row=table.row(position),
            column=column,
        )
    codes, uniques = pd.factorize(text)
    days = np.empty(len(uniques), dtype="datetime64[D]")
    for index, cell in enumerate(uniques):
        try:
            days[index] = np.datetime64(parse_date(str(cell)), "D")
        except ValueError as exc:
            position = _first_bad(np.asarray(codes) == index)
            raise ValueUnparseable(
                f"{table.name}, row {table.row(position)}, column {column!r}: "
                f"cannot read {cell!r} as a date ({exc})",
                file=table.name,
                row=table.row(position),
                column=column,
                value=str(cell),
            ) from None
    result = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    known = np.asarray(codes) >= 0
    result[known] = days[np.asarray(codes)[known]]
    return result


def parse_target(table: TextTable, column: str) -> npt.NDArray[np.int64]:
    """A 0/1 target column (1 = the event, e.g. default); anything else names its row."""
    import numpy as np

    accepted = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
    values = np.empty(len(table), dtype=np.int64)
    for position, cell in enumerate(table.columns[column]):
        value = accepted.get(cell) if cell is not None else None
        if value is None:
            shown = "empty" if cell is None else repr(cell)
            raise ValueUnparseable(
                f"{table.name}, row {table.row(position)}, column {column!r}: the target must "
                f"be 0 or 1, found {shown}",
                file=table.name,
                row=table.row(position),
                column=column,
                value=cell,
            )
        values[position] = value
    return values


def _write_rows(path: Path, headers: list[str], rows: Iterator[list[Any]]) -> int:
    from flywheel.kit.tabular import write_csv

    try:
        return write_csv(path, headers, rows)
    except OSError as exc:
        raise FileUnreadable(
            f"cannot write {path}: {exc.strerror or exc}", file=str(path)
        ) from None


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


@contextlib.contextmanager
def _working(message: str, *, quiet: bool) -> Iterator[None]:
    if quiet:
        yield
    else:
        with console.status(message):
            yield


# --------------------------------------------------------------------------- credit scorecard


def _scorecard_frame(
    table: TextTable, variables: list[str], numeric: set[str]
) -> Any:  # a pandas DataFrame
    import pandas as pd

    data: dict[str, Any] = {}
    for name in variables:
        if name in numeric:
            data[name] = parse_numbers(table, name, required=False)
        else:
            data[name] = pd.Series(table.columns[name], dtype=object)
    return pd.DataFrame(data)


def _numeric_columns(table: TextTable, variables: list[str]) -> tuple[set[str], list[str]]:
    """Columns whose every non-empty cell is a plain number, and columns with no value at all."""
    import pandas as pd

    numeric: set[str] = set()
    empty: list[str] = []
    for name in variables:
        text = pd.Series(table.columns[name], dtype=object)
        present = text.notna()
        if not present.any():
            empty.append(name)
            continue
        parsed = pd.to_numeric(text[present], errors="coerce")
        if parsed.notna().all():
            numeric.add(name)
    return numeric, empty


@app.command("credit-scorecard")
def credit_scorecard(
    train: Annotated[Path, typer.Argument(help="Training table (CSV or XLSX), one row per case.")],
    target: Annotated[
        str, typer.Option("--target", help="The 0/1 column to predict (1 = default / bad).")
    ],
    test: Annotated[
        Path | None,
        typer.Option(
            "--test", help="Test table with the same columns; default: 30% of TRAIN held out."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the scorecard table (variable, bin, WOE, points) here."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="A column that is not a predictor (an id); repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the stratified 70/30 split.")] = 42,
    json_output: JsonFlag = False,
) -> None:
    """Train a credit scorecard and report AUC, KS, Gini and PSI out of sample.

    Binning with monotonic trends, weight of evidence and logistic regression; 600 points at good:bad odds of 50:1 and 20 more points each time the odds double (higher is safer).

    Every column but the target (and --ignore) is a predictor: columns of numbers get a monotonic optimal binning, others are categories; empty cells form a "Missing" bin.
    """
    try:
        payload, card = _run_scorecard(train, target, test, out, ignore or [], seed, json_output)
    except FlywheelError as error:
        raise fail(error, as_json=json_output) from None
    if json_output:
        print_json(payload)
        return
    _show_scorecard(payload, card)


def _run_scorecard(
    train_path: Path,
    target: str,
    test_path: Path | None,
    out: Path | None,
    ignore: list[str],
    seed: int,
    quiet: bool,
) -> tuple[dict[str, Any], Any]:
    import numpy as np

    from flywheel.analytics.scorecard import CreditScorecard

    train_table = read_text_table(train_path)
    train_table.require(target, *ignore)
    y_all = parse_target(train_table, target)
    if y_all.min() == y_all.max():
        raise NotEnoughData(
            f"{train_table.name}: the target column {target!r} holds only {int(y_all[0])}; "
            "a scorecard needs both 0 and 1",
            file=train_table.name,
            column=target,
        )
    candidates = [h for h in train_table.headers if h != target and h not in ignore]
    numeric, empty = _numeric_columns(train_table, candidates)
    variables = [name for name in candidates if name not in empty]
    if not variables:
        raise NotEnoughData(
            f"{train_table.name} has no predictor column besides the target {target!r}",
            file=train_table.name,
        )
    X_all = _scorecard_frame(train_table, variables, numeric)

    if test_path is None:
        from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

        minority = int(min(y_all.sum(), len(y_all) - y_all.sum()))
        if minority < 4:
            raise NotEnoughData(
                f"{train_table.name}: the rarer target class has {minority} rows; at least 4 "
                "are needed for a stratified 70/30 split (or give --test)",
                file=train_table.name,
            )
        X_train, X_test, y_train, y_test = train_test_split(
            X_all, y_all, test_size=DEFAULT_TEST_SHARE, stratify=y_all, random_state=seed
        )
        test_source = f"stratified {DEFAULT_TEST_SHARE:.0%} of {train_table.name}, seed {seed}"
    else:
        test_table = read_text_table(test_path)
        test_table.require(target, *variables)
        y_test = parse_target(test_table, target)
        if y_test.min() == y_test.max():
            raise NotEnoughData(
                f"{test_table.name}: the target column {target!r} holds only "
                f"{int(y_test[0])}; AUC and KS need both 0 and 1",
                file=test_table.name,
                column=target,
            )
        X_train, y_train = X_all, y_all
        X_test = _scorecard_frame(test_table, variables, numeric)
        test_source = test_table.name

    card = CreditScorecard()
    started = time.perf_counter()
    with _working("Binning and fitting the scorecard …", quiet=quiet):
        try:
            card.fit(X_train, y_train)
        except ValueError as exc:
            raise AnalysisInputInvalid(f"cannot train the scorecard: {exc}") from None
    fit_seconds = time.perf_counter() - started
    measured = card.validate(X_test, y_test)
    on_train = card.validate(X_train, y_train)

    if out is not None:
        table = card.table_
        _write_rows(
            out,
            list(table.columns),
            ([_cell(value) for value in row] for row in table.itertuples(index=False)),
        )
    payload = {
        "auc": _rounded(measured["auc"]),
        "ks": _rounded(measured["ks"]),
        "gini": _rounded(measured["gini"]),
        "psi": _rounded(measured["psi"]),
        "train_auc": _rounded(on_train["auc"]),
        "n_train": len(y_train),
        "n_test": len(y_test),
        "event_rate_train": _rounded(float(np.mean(y_train))),
        "test": test_source,
        "variables": card.selected_variables_,
        "categorical_variables": [
            v for v in card.categorical_variables_ if v in card.selected_variables_
        ],
        "ignored_empty_columns": empty,
        "points": {"base_points": card.base_points, "base_odds": card.base_odds, "pdo": card.pdo},
        "fit_seconds": round(fit_seconds, 3),
        "out": str(out) if out is not None else None,
    }
    return payload, card


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "item"):  # numpy scalars
        item = value.item()
        return round(item, 6) if isinstance(item, float) else item
    return value


def _show_scorecard(payload: dict[str, Any], card: Any) -> None:
    metrics = RichTable(title="Credit scorecard — out of sample", title_justify="left")
    metrics.add_column("measure")
    metrics.add_column("value", justify="right")
    for label, key in (
        ("AUC", "auc"),
        ("KS", "ks"),
        ("Gini (2·AUC − 1)", "gini"),
        ("PSI of scores, train vs test", "psi"),
        ("AUC on the training rows", "train_auc"),
    ):
        metrics.add_row(label, f"{payload[key]:.3f}")
    metrics.add_row("training rows", f"{payload['n_train']:,}")
    metrics.add_row("test rows", f"{payload['n_test']:,}")
    metrics.add_row("fit time", f"{payload['fit_seconds']:.2f} s")
    console.print(metrics)
    console.print(f"Test set: {payload['test']}.")
    console.print(
        "Points: 600 at good:bad odds of 50:1, 20 more points each time the odds double; "
        "a higher score is safer."
    )
    summary = (
        card.table_.groupby("variable", sort=False)
        .agg(bins=("bin", "size"), iv=("iv", "sum"), low=("points", "min"), high=("points", "max"))
        .sort_values("iv", ascending=False)
    )
    variables = RichTable(title="Variables by information value", title_justify="left")
    for column in ("variable", "bins", "IV", "points from", "points to"):
        variables.add_column(column, justify="left" if column == "variable" else "right")
    for name, row in summary.iterrows():
        variables.add_row(
            str(name),
            str(int(row["bins"])),
            f"{row['iv']:.3f}",
            f"{row['low']:.1f}",
            f"{row['high']:.1f}",
        )
    console.print(variables)
    if payload["ignored_empty_columns"]:
        console.print(f"Ignored (no values): {', '.join(payload['ignored_empty_columns'])}.")
    if payload["out"]:
        console.print(f"Scorecard table written to {payload['out']}.")


# ---------------------------------------------------------------------------------- payments


@app.command("payments")
def payments(
    invoices: Annotated[
        Path, typer.Argument(help="Invoice history (CSV or XLSX), one row per invoice.")
    ],
    customer_col: Annotated[str, typer.Option("--customer-col", help="Customer column.")],
    issue_date_col: Annotated[str, typer.Option("--issue-date-col", help="Issue date column.")],
    due_date_col: Annotated[str, typer.Option("--due-date-col", help="Due date column.")],
    paid_date_col: Annotated[
        str, typer.Option("--paid-date-col", help="Paid date column (empty while open).")
    ],
    amount_col: Annotated[str, typer.Option("--amount-col", help="Invoice amount column.")],
    split_date: Annotated[
        str | None,
        typer.Option(
            "--split-date",
            help="Train before this date, test on invoices issued on or after it "
            "(default: the 70% quantile of issue dates).",
        ),
    ] = None,
    disputes_col: Annotated[
        str | None, typer.Option("--disputes-col", help="Optional numeric column: disputes.")
    ] = None,
    promises_col: Annotated[
        str | None,
        typer.Option("--promises-col", help="Optional numeric column: promises to pay."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write each test invoice with its columns plus predicted_days_late, p_late "
            "(probability of paying after the due date) and p_late_30.",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Backtest the payment-date model against naive baselines on your invoice history.

    Days late = paid date − due date in calendar days; paying early counts as negative.

    The model learns from invoices paid before the split date and is scored, with the baselines (customer's historical median and mean delay, "pays on the due date"), on the invoices issued on or after it that have been paid: MAE in days and AUC of "paid late".
    """
    columns = {
        "customer": customer_col,
        "issue_date": issue_date_col,
        "due_date": due_date_col,
        "paid_date": paid_date_col,
        "amount": amount_col,
    }
    if disputes_col:
        columns["disputes"] = disputes_col
    if promises_col:
        columns["promises"] = promises_col
    try:
        payload = _run_payments(invoices, columns, split_date, out, json_output)
    except FlywheelError as error:
        raise fail(error, as_json=json_output) from None
    if json_output:
        print_json(payload)
        return
    _show_payments(payload)


def _run_payments(
    path: Path,
    columns: dict[str, str],
    split_text: str | None,
    out: Path | None,
    quiet: bool,
) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from flywheel.analytics.payment_model import backtest
    from flywheel.kit.parse import parse_date

    table = read_text_table(path)
    table.require(*columns.values())
    customer = pd.Series(table.columns[columns["customer"]], dtype=object)
    if customer.isna().any():
        position = _first_bad(customer.isna().to_numpy())
        raise ValueUnparseable(
            f"{table.name}, row {table.row(position)}, column {columns['customer']!r}: "
            "the customer is empty",
            file=table.name,
            row=table.row(position),
            column=columns["customer"],
        )
    frame = pd.DataFrame(
        {
            "customer": customer,
            "issue_date": parse_dates(table, columns["issue_date"], required=True),
            "due_date": parse_dates(table, columns["due_date"], required=True),
            "paid_date": parse_dates(table, columns["paid_date"], required=False),
            "amount": parse_numbers(table, columns["amount"], required=True),
        }
    )
    for optional in ("disputes", "promises"):
        if optional in columns:
            frame[optional] = np.nan_to_num(
                parse_numbers(table, columns[optional], required=False), nan=0.0
            )

    issue_days = frame["issue_date"].to_numpy().astype("datetime64[D]")
    if split_text is None:
        split_day = np.quantile(issue_days.astype(np.int64), DEFAULT_SPLIT_QUANTILE, method="lower")
        split: date = np.datetime64(int(split_day), "D").astype(object)
        split_source = f"the {DEFAULT_SPLIT_QUANTILE:.0%} quantile of the issue dates"
    else:
        try:
            split = parse_date(split_text)
        except ValueError as exc:
            raise ValueUnparseable(f"--split-date: {exc}", value=split_text) from None
        split_source = "--split-date"

    with _working("Building features and training the payment-date model …", quiet=quiet):
        try:
            result = backtest(frame, split_date=split)
        except ValueError as exc:
            raise NotEnoughData(
                f"{table.name}: {exc} (split date {split})", file=table.name
            ) from None

    if out is not None:
        _write_predictions(out, table, result.predictions)
    best = result.best_baseline
    return {
        "model": {
            "mae_days": _rounded(result.mae_days),
            "auc_late": _rounded(result.auc_late),
            "auc_late_30": _rounded(result.auc_late_30),
        },
        "baselines": {
            name: {
                "mae_days": _rounded(result.baseline_mae_days[name]),
                "auc_late": _rounded(result.baseline_auc_late[name]),
            }
            for name in ("customer_median", "customer_mean", "due_date")
        },
        "best_baseline": best,
        "improvement_over_best_baseline": _rounded(result.improvement_over_best_baseline),
        "n_train": result.n_train,
        "n_test": result.n_test,
        "n_test_paid": result.n_test_paid,
        "split_date": result.split_date.isoformat(),
        "split_date_source": split_source,
        "settle_days": result.settle_days,
        "days_late": DAYS_LATE_DEFINITION,
        "seconds": {name: round(value, 3) for name, value in result.seconds.items()},
        "out": str(out) if out is not None else None,
    }


def _write_predictions(out: Path, table: TextTable, predictions: Any) -> None:
    import numpy as np

    added = ["predicted_days_late", "p_late", "p_late_30"]
    names = [name if name not in table.columns else f"flywheel_{name}" for name in added]
    positions = predictions.index.to_numpy()
    predicted = np.round(predictions["predicted_days_late"].to_numpy(), 1)
    p_late = np.round(predictions["p_late"].to_numpy(), 4)
    p_late_30 = np.round(predictions["p_late_30"].to_numpy(), 4)
    source = [table.columns[header] for header in table.headers]

    def rows() -> Iterator[list[Any]]:
        for index, position in enumerate(positions.tolist()):
            yield [
                *(column[position] for column in source),
                float(predicted[index]),
                float(p_late[index]),
                float(p_late_30[index]),
            ]

    _write_rows(out, [*table.headers, *names], rows())


def _show_payments(payload: dict[str, Any]) -> None:
    result = RichTable(
        title=f"Payment-date backtest — test: invoices issued from {payload['split_date']}",
        title_justify="left",
    )
    result.add_column("forecast")
    result.add_column("MAE (days)", justify="right")
    result.add_column("AUC paid late", justify="right")

    def auc_text(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    model = payload["model"]
    result.add_row(
        "model (gradient boosting)", f"{model['mae_days']:.2f}", auc_text(model["auc_late"])
    )
    labels = {
        "customer_median": "customer's historical median",
        "customer_mean": "customer's historical mean",
        "due_date": "pays on the due date (0)",
    }
    for name, label in labels.items():
        baseline = payload["baselines"][name]
        result.add_row(label, f"{baseline['mae_days']:.2f}", auc_text(baseline["auc_late"]))
    console.print(result)
    improvement = payload["improvement_over_best_baseline"]
    if improvement is not None:
        direction = "lower" if improvement >= 0 else "higher"
        console.print(
            f"Model MAE {abs(improvement):.1%} {direction} than the best baseline "
            f"({labels[payload['best_baseline']]})."
        )
    console.print(
        f"AUC of paying more than 30 days late (p_late_30): {auc_text(model['auc_late_30'])}."
    )
    console.print(
        f"Split date {payload['split_date']} ({payload['split_date_source']}). Trained on "
        f"{payload['n_train']:,} invoices paid before it and due at least "
        f"{payload['settle_days']} days before it; tested on {payload['n_test_paid']:,} paid "
        f"of {payload['n_test']:,} invoices issued on or after it."
    )
    console.print(f"Note: {DAYS_LATE_DEFINITION}.")
    if payload["out"]:
        console.print(f"Predictions written to {payload['out']}.")


# --------------------------------------------------------------------------- sentiment

SENTIMENT_LABELS = {
    "1": 1,
    "1.0": 1,
    "positive": 1,
    "pos": 1,
    "正面": 1,
    "好评": 1,
    "0": 0,
    "0.0": 0,
    "negative": 0,
    "neg": 0,
    "负面": 0,
    "差评": 0,
}


@app.command("sentiment")
def sentiment(
    path: Annotated[Path, typer.Argument(help="Comments (CSV or XLSX), one row per comment.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Column with the comment text.")],
    label_col: Annotated[
        str | None,
        typer.Option(
            "--label-col",
            help="Optional known sentiment (positive/negative, 1/0, pos/neg, 正面/负面): "
            "prints accuracy and macro-F1.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write every row with its columns plus sentiment, score, language, topics "
            "and urgency.",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Label the sentiment (zh and en, offline), topics and urgency of free-text comments.

    Score runs from -1 (negative) to 1 (positive); a score near 0 is "neutral". Accuracy and
    macro-F1 compare the yes/no decision (positive when score > 0) with the label column.
    """
    try:
        payload = _run_sentiment(path, text_col, label_col, out)
    except FlywheelError as error:
        raise fail(error, as_json=json_output) from None
    if json_output:
        print_json(payload)
        return
    _show_sentiment(payload)


def _parse_sentiment_labels(table: TextTable, column: str) -> list[int]:
    values: list[int] = []
    for position, cell in enumerate(table.columns[column]):
        value = SENTIMENT_LABELS.get(cell.strip().lower()) if cell is not None else None
        if value is None:
            shown = "empty" if cell is None else repr(cell)
            raise ValueUnparseable(
                f"{table.name}, row {table.row(position)}, column {column!r}: the label must be "
                f"positive/negative, 1/0, pos/neg or 正面/负面, found {shown}",
                file=table.name,
                row=table.row(position),
                column=column,
                value=cell,
            )
        values.append(value)
    return values


def _run_sentiment(
    path: Path, text_col: str, label_col: str | None, out: Path | None
) -> dict[str, Any]:
    from collections import Counter

    from flywheel.feedback.text import sentiment as text_sentiment
    from flywheel.feedback.text import topics as text_topics
    from flywheel.feedback.text import urgency as text_urgency

    table = read_text_table(path)
    table.require(text_col, *([label_col] if label_col else []))
    labels = _parse_sentiment_labels(table, label_col) if label_col else None
    texts = [cell or "" for cell in table.columns[text_col]]
    model = text_sentiment.load_model()
    model.predict(texts[:1])  # imports and first-call set-up are not part of the speed
    started = time.perf_counter()
    feelings = model.predict(texts)
    elapsed = time.perf_counter() - started
    hits = text_topics.tag_batch(texts, text_topics.DEFAULT_TOPICS)
    flags = [text_urgency.flags(text) for text in texts]
    accuracy = macro_f1 = None
    if labels is not None:
        from sklearn.metrics import f1_score  # type: ignore[import-untyped]

        decided = [1 if f.score > 0 else 0 for f in feelings]
        accuracy = sum(d == t for d, t in zip(decided, labels, strict=True)) / len(labels)
        macro_f1 = float(f1_score(labels, decided, average="macro", labels=[0, 1]))
    if out is not None:
        added = ["sentiment", "score", "language", "topics", "urgency"]
        names = [name if name not in table.columns else f"flywheel_{name}" for name in added]
        source = [table.columns[header] for header in table.headers]

        def rows() -> Iterator[list[Any]]:
            for position, feeling in enumerate(feelings):
                yield [
                    *(column[position] for column in source),
                    feeling.label,
                    feeling.score,
                    feeling.language,
                    ";".join(hit.code for hit in hits[position]),
                    ";".join(flags[position]),
                ]

        _write_rows(out, [*table.headers, *names], rows())
    topic_counts = Counter(hit.code for found in hits for hit in found)
    flag_counts = Counter(flag for found in flags for flag in found)
    return {
        "file": table.name,
        "n": len(texts),
        "model_version": model.version,
        "sentiment": dict(Counter(f.label for f in feelings)),
        "languages": dict(Counter(f.language for f in feelings)),
        "topics": dict(topic_counts.most_common()),
        "urgency": dict(flag_counts.most_common()),
        "accuracy": _rounded(accuracy),
        "macro_f1": _rounded(macro_f1),
        "texts_per_second": round(len(texts) / elapsed, 1) if elapsed > 0 else None,
        "out": str(out) if out is not None else None,
    }


def _show_sentiment(payload: dict[str, Any]) -> None:
    console.print(f"Sentiment of {payload['n']:,} comments in {payload['file']}")
    result = RichTable()
    result.add_column("sentiment")
    result.add_column("comments", justify="right")
    for label in ("positive", "neutral", "negative"):
        result.add_row(label, f"{payload['sentiment'].get(label, 0):,}")
    console.print(result)
    languages = ", ".join(f"{k} {v:,}" for k, v in payload["languages"].items())
    console.print(f"Languages: {languages}.")
    if payload["topics"]:
        console.print(
            "Topics: " + ", ".join(f"{k} {v:,}" for k, v in payload["topics"].items()) + "."
        )
    if payload["urgency"]:
        console.print(
            "Urgency: " + ", ".join(f"{k} {v:,}" for k, v in payload["urgency"].items()) + "."
        )
    if payload["accuracy"] is not None:
        console.print(
            f"Against the label column: accuracy {payload['accuracy']:.3f}, "
            f"macro-F1 {payload['macro_f1']:.3f}."
        )
    speed = payload["texts_per_second"]
    console.print(
        f"Model {payload['model_version']}"
        + (f", {speed:,.0f} texts/s." if speed is not None else ".")
    )
    if payload["out"]:
        console.print(f"Labelled rows written to {payload['out']}.")
