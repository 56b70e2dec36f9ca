"""Transactions: the history with a kind filter, and all of it as CSV."""

import csv
import io
import uuid
from collections.abc import Iterable, Iterator

from flask import Response, render_template, request, stream_with_context

from ledger.api.auth import org_access
from ledger.api.schemas.credits import EntryListArgsSchema
from ledger.book import reports
from ledger.domain.entries import ENTRY_KINDS
from ledger.pages.forms import load_form
from ledger.pages.portal.blueprint import bp, present
from ledger.services import portal

CSV_COLUMNS = (
    "created_at",
    "id",
    "kind",
    "order_id",
    "description",
    "reference",
    "amount",
    "currency",
    "balance_after",
)


def _entry_filters() -> dict:
    return load_form(
        EntryListArgsSchema(),
        present(**{k: request.args.get(k) or None for k in ("kind", "cursor", "limit")}),
    )


@bp.get("/<uuid:org_id>/transactions")
def transactions(org_id: uuid.UUID):
    org_access(org_id, "read")
    filters = _entry_filters()
    return render_template(
        "portal/transactions.html",
        page=reports.list_entries(org_id=org_id, **filters),
        kind=filters.get("kind"),
        kinds=ENTRY_KINDS,
    )


@bp.get("/<uuid:org_id>/transactions.csv")
def transactions_csv(org_id: uuid.UUID):
    org_access(org_id, "read")
    kind = _entry_filters().get("kind")
    rows = portal.all_entries(org_id=org_id, kind=kind)
    return Response(
        stream_with_context(_csv(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="transactions-{org_id}.csv"'},
    )


def _csv(entries: Iterable[reports.EntryView]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.id,
                entry.kind,
                _cell(entry.order_id),
                _cell(entry.description),
                _cell(entry.reference),
                entry.amount,
                entry.currency,
                "" if entry.balance_after is None else entry.balance_after,
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(text: str | None) -> str:
    """Callers' text, made inert for spreadsheets (a leading = + - @ would be a formula)."""
    if not text:
        return ""
    return "'" + text if text[0] in "=+-@\t\r" else text
