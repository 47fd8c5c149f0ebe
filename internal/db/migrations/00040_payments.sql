-- +goose Up
-- Receivables: what payments may be applied to. Registered when an invoice is finalized; carries the
-- remittance reference printed on the invoice for bank transfers. invoice_id refers to invoices.id
-- (no foreign key yet: the invoice package is written in parallel).
CREATE TABLE payment_receivables (
    invoice_id  text PRIMARY KEY,
    customer_id text NOT NULL,
    reference   text NOT NULL CONSTRAINT payment_receivables_reference_uq UNIQUE,
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount      numeric NOT NULL CHECK (amount > 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Payments: every money effect with its idempotency key, written BEFORE the provider call (pending)
-- and updated AFTER it (succeeded or failed).
CREATE TABLE payments (
    id              bigserial PRIMARY KEY,
    idempotency_key text NOT NULL CONSTRAINT payments_idempotency_key_uq UNIQUE,
    kind            text NOT NULL CHECK (kind IN ('charge', 'refund', 'transfer')),
    provider        text NOT NULL CHECK (provider IN ('stripe', 'paypal', 'bank')),
    invoice_id      text NOT NULL,
    attempt         integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    amount          numeric NOT NULL CHECK (amount > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_id     text,
    failure_code    text NOT NULL DEFAULT '',
    failure_message text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    captured_at     timestamptz,
    CONSTRAINT payments_provider_id_uq UNIQUE (provider, kind, provider_id),
    CHECK ((status = 'succeeded') = (captured_at IS NOT NULL))
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);
CREATE INDEX payments_pending_idx ON payments (created_at) WHERE status = 'pending';
CREATE INDEX payments_captured_idx ON payments (provider, captured_at) WHERE status = 'succeeded';

-- Webhook events applied (or found to change nothing), one row per provider event id, so that a
-- redelivery is a no-op.
CREATE TABLE payment_webhook_events (
    provider    text NOT NULL,
    event_id    text NOT NULL,
    event_type  text NOT NULL,
    payment_key text NOT NULL DEFAULT '',
    outcome     text NOT NULL CHECK (outcome IN ('applied', 'unchanged')),
    payload     bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Webhook deliveries refused (bad signature, unknown invoice, amount mismatch ...); append-only.
CREATE TABLE payment_webhook_rejections (
    id          bigserial PRIMARY KEY,
    provider    text NOT NULL,
    event_id    text NOT NULL DEFAULT '',
    code        text NOT NULL,
    reason      text NOT NULL,
    payload     bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_webhook_rejections_event_idx ON payment_webhook_rejections (provider, event_id);
CREATE TRIGGER payment_webhook_rejections_append_only BEFORE UPDATE OR DELETE ON payment_webhook_rejections
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- Bank statement lines, unique per account and bank transaction id so re-importing a statement is a no-op.
CREATE TABLE bank_statement_lines (
    id             bigserial PRIMARY KEY,
    account        text NOT NULL,
    transaction_id text NOT NULL,
    booked_on      date NOT NULL,
    amount         numeric NOT NULL,
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reference      text NOT NULL DEFAULT '',
    counterparty   text NOT NULL DEFAULT '',
    invoice_id     text,
    outcome        text NOT NULL CHECK (outcome IN ('paid', 'partial', 'overpaid', 'unmatched')),
    applied        numeric NOT NULL DEFAULT 0 CHECK (applied >= 0),
    excess         numeric NOT NULL DEFAULT 0 CHECK (excess >= 0),
    imported_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bank_statement_lines_uq UNIQUE (account, transaction_id)
);

-- Exceptions for revenue ops: unmatched bank lines, over-payments, reconciliation differences.
-- Unique on (kind, provider, source) so re-running a match or reconciliation records nothing twice.
CREATE TABLE payment_exceptions (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,
    provider    text NOT NULL,
    source      text NOT NULL,
    invoice_id  text NOT NULL DEFAULT '',
    amount      numeric NOT NULL DEFAULT 0,
    currency    text NOT NULL DEFAULT '',
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CONSTRAINT payment_exceptions_uq UNIQUE (kind, provider, source)
);

-- +goose Down
DROP TABLE payment_exceptions;
DROP TABLE bank_statement_lines;
DROP TABLE payment_webhook_rejections;
DROP TABLE payment_webhook_events;
DROP TABLE payments;
DROP TABLE payment_receivables;
