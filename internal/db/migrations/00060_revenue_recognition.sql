-- +goose Up
-- Revenue recognition (internal/revrec): each run records one computation of an arrangement's schedule
-- with the hash of its input, its allocation explanation and amendment methods; runs are numbered per
-- arrangement, and a run whose input hash equals the latest run's is a no-op (a retry). revenue_schedules
-- holds the current schedule, one row per obligation and month. Obligation ids are scoped to their arrangement.

CREATE TABLE revenue_recognition_runs (
    id             text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 300),
    arrangement_id text NOT NULL CHECK (arrangement_id <> ''),
    seq            integer NOT NULL CHECK (seq > 0),
    input_hash     bytea NOT NULL CHECK (length(input_hash) = 32),
    closed_through text CHECK (closed_through ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    versions       jsonb NOT NULL,
    line_count     integer NOT NULL CHECK (line_count >= 0),
    computed_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT revenue_recognition_runs_seq_key UNIQUE (arrangement_id, seq)
);

CREATE TRIGGER revenue_recognition_runs_append_only BEFORE UPDATE OR DELETE ON revenue_recognition_runs
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

CREATE TABLE revenue_schedules (
    arrangement_id text NOT NULL CHECK (arrangement_id <> ''),
    obligation_id  text NOT NULL CHECK (obligation_id <> ''),
    month          text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    customer_id    text NOT NULL,
    entity_id      text NOT NULL,
    product        text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('platform', 'seats', 'usage', 'services', 'setup')),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    revenue        numeric NOT NULL,
    catch_up       numeric NOT NULL,
    breakage       numeric NOT NULL,
    billed         numeric NOT NULL,
    deferred       numeric NOT NULL CHECK (deferred >= 0),
    unbilled       numeric NOT NULL CHECK (unbilled >= 0),
    run_id         text NOT NULL REFERENCES revenue_recognition_runs (id),
    CONSTRAINT revenue_schedules_obligation_month_key UNIQUE (arrangement_id, obligation_id, month),
    CHECK (deferred = 0 OR unbilled = 0)
);
CREATE INDEX revenue_schedules_month_idx ON revenue_schedules (month, entity_id);
CREATE INDEX revenue_schedules_customer_idx ON revenue_schedules (customer_id, month);

-- +goose Down
DROP TABLE revenue_schedules;
DROP TABLE revenue_recognition_runs;
