-- oldest reader: 2
-- (A table of its own: builds that know 2 neither read nor write it.)

-- The outbox of notifications (internal/notify): one row per delivery, a history entry's
-- notification to one receiver, written in the same transaction as the entry, so that no change
-- goes untold and none is told that was not recorded. The sender takes the pending ones whose
-- next attempt is due.
CREATE TABLE notification_deliveries (
    notification_id TEXT        NOT NULL,
    receiver        TEXT        NOT NULL, -- notify.Receiver.Key: a name, never the URL
    entry_id        BIGINT      NOT NULL,
    tenant_id       TEXT        NOT NULL,
    queued_at       TIMESTAMPTZ NOT NULL,
    next_attempt    TIMESTAMPTZ NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    state           TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'gave_up')),
    last_error      TEXT        NOT NULL DEFAULT '',
    notification    JSONB       NOT NULL, -- notify.Notification
    PRIMARY KEY (notification_id, receiver)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt);
CREATE INDEX notification_deliveries_entry ON notification_deliveries (tenant_id, entry_id);
