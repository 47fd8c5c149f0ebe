-- +goose Up
-- Rollup deltas: each ingest transaction appends its batch's contribution here (no primary key,
-- so concurrent batches never wait on each other's rollup rows); the compactor folds them into
-- usage_rollups / usage_rollup_distinct in one transaction. Queries read both, so they are exact
-- at any moment.
CREATE TABLE usage_rollup_deltas (
    meter       text NOT NULL,
    subject     text NOT NULL,
    hour        timestamptz NOT NULL,
    groups      jsonb NOT NULL,
    count       bigint NOT NULL,
    sum         numeric NOT NULL,
    max         numeric,
    latest      numeric,
    latest_time timestamptz,
    latest_key  bytea
);

CREATE TABLE usage_rollup_distinct_deltas (
    meter   text NOT NULL,
    subject text NOT NULL,
    hour    timestamptz NOT NULL,
    groups  jsonb NOT NULL,
    value   text NOT NULL
);

-- +goose Down
DROP TABLE usage_rollup_distinct_deltas;
DROP TABLE usage_rollup_deltas;
