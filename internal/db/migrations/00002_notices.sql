-- +goose Up
-- Notices for revenue ops: dunning steps, uncollectible invoices, rejected deals, blocked checks.
-- One row per (subject, kind, dedup key) so a retried activity does not notify twice.
CREATE TABLE ops_notices (
    id          bigserial PRIMARY KEY,
    subject     text NOT NULL,
    kind        text NOT NULL,
    dedup_key   text NOT NULL,
    message     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by text,
    UNIQUE (subject, kind, dedup_key)
);
CREATE INDEX ops_notices_open_idx ON ops_notices (created_at) WHERE acknowledged_at IS NULL;

-- +goose Down
DROP TABLE ops_notices;
