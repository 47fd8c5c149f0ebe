-- +goose Up
-- Decisions taken on a month-end close (skip a customer, retry a step, re-run a customer), one row
-- per decision keyed by the close run and the workflow's decision sequence, so a retried activity
-- records each decision (and its audit log entry) once. Append-only.
CREATE TABLE close_decisions (
    key        text PRIMARY KEY CHECK (key <> ''),
    run        text NOT NULL CHECK (run <> ''),
    action     text NOT NULL CHECK (action <> ''),
    actor      text NOT NULL CHECK (actor <> ''),
    reason     text NOT NULL CHECK (reason <> ''),
    details    jsonb NOT NULL DEFAULT '{}',
    audit_id   bigint NOT NULL REFERENCES audit_log (id),
    decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX close_decisions_run_idx ON close_decisions (run, decided_at);

CREATE TRIGGER close_decisions_append_only BEFORE UPDATE OR DELETE ON close_decisions
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose Down
DROP TABLE close_decisions;
