"""A channel's sync cursors (Channel.sync_cursors): run checkpoints and high-water marks."""
from __future__ import annotations

from app.extensions import db
from app.models import Channel


def set_cursors(channel: Channel, values: dict) -> None:
    """Set some of the channel's cursors, keeping the others.

    A new dict every time: a JSON column only notices reassignment, so changing the loaded
    dict in place would never be written.
    """
    channel.sync_cursors = {**(channel.sync_cursors or {}), **values}


def save_cursors(channel_id: int, values: dict) -> Channel:
    """Set some cursors under a lock on the channel's row, re-read first (another worker
    may have moved one of the others meanwhile). Flushes."""
    channel = db.session.get(Channel, channel_id, with_for_update=True, populate_existing=True)
    set_cursors(channel, values)
    db.session.flush()
    return channel
