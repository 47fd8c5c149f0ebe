-- +goose Up
-- Reconciliation runs (e.g. close/acme-us/2026-10), the stored result of each check attempt with its
-- differences, and the approvals of blocked checks. Results, differences and decisions are
-- append-only: a re-run is a new attempt, an approval is a new decision.
CREATE TABLE recon_runs (
    run        text PRIMARY KEY CHECK (run <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recon_results (
    id           bigserial PRIMARY KEY,
    run          text NOT NULL REFERENCES recon_runs (run),
    check_name   text NOT NULL CHECK (check_name ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
    attempt      integer NOT NULL CHECK (attempt >= 1),
    step         text NOT NULL CHECK (step <> ''),
    status       text NOT NULL CHECK (status IN ('green', 'within_tolerance', 'blocked')),
    left_name    text NOT NULL,
    left_count   integer NOT NULL CHECK (left_count >= 0),
    left_totals  jsonb NOT NULL,
    right_name   text NOT NULL,
    right_count  integer NOT NULL CHECK (right_count >= 0),
    right_totals jsonb NOT NULL,
    tolerance    jsonb NOT NULL,
    breaches     text[] NOT NULL DEFAULT '{}',
    input_hash   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recon_results_attempt_key UNIQUE (run, check_name, attempt)
);
CREATE INDEX recon_results_blocked_idx ON recon_results (run, check_name) WHERE status = 'blocked';

CREATE TABLE recon_differences (
    result_id    bigint NOT NULL REFERENCES recon_results (id),
    position     integer NOT NULL CHECK (position >= 0),
    key          text NOT NULL CHECK (key <> ''),
    currency     char(3) NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('missing_left', 'missing_right', 'amount_mismatch', 'duplicate_key')),
    left_amount  numeric NOT NULL,
    right_amount numeric NOT NULL,
    delta        numeric NOT NULL CHECK (delta = left_amount - right_amount),
    reason       text NOT NULL,
    PRIMARY KEY (result_id, key, currency),
    UNIQUE (result_id, position)
);

CREATE TABLE recon_decisions (
    id             bigserial PRIMARY KEY,
    result_id      bigint NOT NULL REFERENCES recon_results (id),
    difference_key text NOT NULL DEFAULT '', -- '' approves the whole check
    actor          text NOT NULL CHECK (actor <> ''),
    reason         text NOT NULL CHECK (reason <> ''),
    decided_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recon_decisions_once UNIQUE (result_id, difference_key)
);

CREATE TRIGGER recon_results_append_only BEFORE UPDATE OR DELETE ON recon_results
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER recon_differences_append_only BEFORE UPDATE OR DELETE ON recon_differences
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER recon_decisions_append_only BEFORE UPDATE OR DELETE ON recon_decisions
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose Down
DROP TABLE recon_decisions;
DROP TABLE recon_differences;
DROP TABLE recon_results;
DROP TABLE recon_runs;
