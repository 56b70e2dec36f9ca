"""`lot.expiring`: a warning, once per lot, LOT_EXPIRY_WARNING_DAYS before it expires."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import text

from ledger import clock
from ledger.book import lot_data, record_event, unit_of_work
from ledger.extensions import db

# Lots with credit left that expire within the window and have not been warned of.
_DUE = text(
    """
    SELECT l.id, l.org_id, l.currency, l.kind, l.remaining, l.expires_at
    FROM lots l
    WHERE l.remaining > 0 AND l.expires_at > :now AND l.expires_at <= :until
      AND NOT EXISTS (
          SELECT 1 FROM events e
          WHERE e.type = 'lot.expiring' AND e.org_id = l.org_id
            AND e.data ->> 'id' = CAST(l.id AS text))
    ORDER BY l.expires_at
    """
)


def warn_expiring_lots() -> int:
    """Send `lot.expiring` for each lot with credit left that expires within the window.

    Safe to run twice or concurrently: a lot's warning is unique in the database
    (`uq_events_lot_expiring`), so a second one writes nothing. Returns how many were sent.
    """
    now = clock.now()
    until = now + timedelta(days=current_app.config["LOT_EXPIRY_WARNING_DAYS"])
    warned = 0
    with unit_of_work():
        for lot in db.session.execute(_DUE, {"now": now, "until": until}).all():
            data = lot_data(
                id=lot.id,
                kind=lot.kind,
                remaining=lot.remaining,
                expires_at=lot.expires_at,
                currency=lot.currency,
            )
            warned += record_event(org_id=lot.org_id, type="lot.expiring", data=data)
    return warned
