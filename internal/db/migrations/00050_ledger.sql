-- +goose Up
-- The double-entry ledger: chart of accounts, accounting periods per entity, append-only journal
-- entries keyed by their business event, and their postings. PostgreSQL itself refuses an
-- unbalanced entry (per currency, checked at commit), any UPDATE or DELETE of an entry or a
-- posting, and any entry dated in a closed period.

CREATE TABLE ledger_accounts (
    code       text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z._-]{1,32}$'),
    name       text NOT NULL,
    type       text NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'revenue', 'contra_revenue', 'expense')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Accounting periods are calendar months per entity (subsidiary). A period without a row is open.
CREATE TABLE ledger_periods (
    entity     text NOT NULL,
    period     text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at  timestamptz,
    closed_by  text,
    PRIMARY KEY (entity, period),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

CREATE TABLE ledger_entries (
    key             text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    entity          text NOT NULL CHECK (entity <> ''),
    entry_date      date NOT NULL,
    period          text NOT NULL,
    memo            text NOT NULL DEFAULT '',
    reverses        text UNIQUE REFERENCES ledger_entries (key),
    original_period text CHECK (original_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    content_hash    bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (period = to_char(entry_date, 'YYYY-MM')),
    CHECK (original_period IS NULL OR original_period < period)
);
CREATE INDEX ledger_entries_period_idx ON ledger_entries (entity, period);

-- Postings carry a signed amount: debit positive, credit negative.
CREATE TABLE ledger_postings (
    entry_key  text NOT NULL REFERENCES ledger_entries (key),
    line       integer NOT NULL CHECK (line >= 0),
    account    text NOT NULL REFERENCES ledger_accounts (code),
    amount     numeric NOT NULL CHECK (amount <> 0),
    currency   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    customer   text NOT NULL DEFAULT '',
    product    text NOT NULL DEFAULT '',
    contract   text NOT NULL DEFAULT '',
    memo       text NOT NULL DEFAULT '',
    PRIMARY KEY (entry_key, line)
);
CREATE INDEX ledger_postings_account_idx ON ledger_postings (account, currency);

-- Which entries reached which ERP, under which external id (several entries share one when summarized).
CREATE TABLE ledger_erp_postings (
    system      text NOT NULL CHECK (system <> ''),
    entry_key   text NOT NULL REFERENCES ledger_entries (key),
    external_id text NOT NULL CHECK (external_id <> ''),
    internal_id text NOT NULL DEFAULT '',
    posted_at   timestamptz NOT NULL,
    PRIMARY KEY (system, entry_key)
);
CREATE INDEX ledger_erp_postings_external_idx ON ledger_erp_postings (system, external_id);

-- +goose StatementBegin
-- Checked at commit: the entry has postings and they sum to zero in every currency.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k   text;
    cur text;
    total numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_entries' THEN
        k := NEW.key;
    ELSE
        k := NEW.entry_key;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ledger_postings WHERE entry_key = k) THEN
        RAISE EXCEPTION 'ledger entry % has no postings', k
            USING ERRCODE = '23514', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    SELECT p.currency, sum(p.amount) INTO cur, total
      FROM ledger_postings p WHERE p.entry_key = k
     GROUP BY p.currency HAVING sum(p.amount) <> 0
     ORDER BY p.currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is unbalanced in %: debits minus credits = %', k, cur, total
            USING ERRCODE = '23514', CONSTRAINT = 'ledger_entry_balanced';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER ledger_erp_postings_append_only BEFORE UPDATE OR DELETE ON ledger_erp_postings
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose StatementBegin
-- An entry may only be dated in an open period. The period row is created on first use and
-- share-locked, so a concurrent close waits for this transaction and later posts see it closed.
CREATE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    INSERT INTO ledger_periods (entity, period) VALUES (NEW.entity, NEW.period) ON CONFLICT DO NOTHING;
    SELECT status INTO st FROM ledger_periods WHERE entity = NEW.entity AND period = NEW.period FOR SHARE;
    IF st = 'closed' THEN
        RAISE EXCEPTION 'accounting period % of entity % is closed: entry % refused', NEW.period, NEW.entity, NEW.key
            USING ERRCODE = 'P0001', CONSTRAINT = 'ledger_period_open';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_closed_period();

-- +goose StatementBegin
-- Periods only ever move from open to closed; a closed period is never reopened or removed.
CREATE FUNCTION ledger_period_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status = 'closed' OR NEW.entity <> OLD.entity OR NEW.period <> OLD.period THEN
        RAISE EXCEPTION 'accounting period % of entity % cannot be changed: % refused', OLD.period, OLD.entity, TG_OP
            USING ERRCODE = 'P0001', CONSTRAINT = 'ledger_period_forward_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_periods_forward_only BEFORE UPDATE OR DELETE ON ledger_periods
    FOR EACH ROW EXECUTE FUNCTION ledger_period_forward_only();

-- +goose Down
DROP TABLE ledger_erp_postings;
DROP TABLE ledger_postings;
DROP TABLE ledger_entries;
DROP TABLE ledger_periods;
DROP TABLE ledger_accounts;
DROP FUNCTION ledger_period_forward_only();
DROP FUNCTION ledger_refuse_closed_period();
DROP FUNCTION ledger_check_balanced();
