-- +goose Up
-- Invoices, their lines, payments applied to them, credit notes and gap-free number series.
-- Finalized invoices are immutable: the triggers below refuse edits to lines and to every column
-- except the controlled life-cycle columns (status, amount_paid, amount_credited and their stamps).

-- One counter row per billing entity and document kind. Numbers are taken by UPDATE ... RETURNING
-- inside the finalizing transaction: the row lock serializes finalizations of one entity and a
-- rollback returns the number, so the series has no gaps (a sequence would leave gaps).
CREATE TABLE invoice_number_series (
    billing_entity text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    prefix         text NOT NULL,
    last_value     bigint NOT NULL DEFAULT 0 CHECK (last_value >= 0),
    PRIMARY KEY (billing_entity, kind)
);

CREATE TABLE invoices (
    id                 text PRIMARY KEY,
    idempotency_key    text NOT NULL,
    input_hash         bytea NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('cycle', 'one_off')),
    contract_id        text NOT NULL DEFAULT '',
    contract_version   integer NOT NULL DEFAULT 0 CHECK (contract_version >= 0),
    customer_id        text NOT NULL,
    billing_entity     text NOT NULL,
    currency           char(3) NOT NULL,
    period_start       date,
    period_end         date,
    status             text NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'finalized', 'partially_paid', 'paid', 'void', 'uncollectible')),
    number             text,
    issue_date         date,
    due_date           date,
    payment_terms_days integer NOT NULL CHECK (payment_terms_days BETWEEN 0 AND 365),
    memo               text NOT NULL DEFAULT '',
    subtotal           numeric NOT NULL CHECK (subtotal >= 0),
    discount           numeric NOT NULL CHECK (discount >= 0),
    total              numeric NOT NULL CHECK (total >= 0),
    amount_paid        numeric NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    amount_credited    numeric NOT NULL DEFAULT 0 CHECK (amount_credited >= 0),
    amount_due         numeric GENERATED ALWAYS AS (GREATEST(total - amount_paid - amount_credited, 0)) STORED,
    payment_reference  text,
    void_reason        text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    finalized_at       timestamptz,
    paid_at            timestamptz,
    voided_at          timestamptz,
    uncollectible_at   timestamptz,
    CONSTRAINT invoices_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT invoices_number_key UNIQUE (billing_entity, number),
    CONSTRAINT invoices_total_sum_check CHECK (total = subtotal - discount),
    CONSTRAINT invoices_paid_check CHECK (amount_paid <= total),
    CONSTRAINT invoices_credited_check CHECK (amount_credited <= total),
    CONSTRAINT invoices_period_check CHECK (period_start IS NULL OR period_end > period_start),
    CONSTRAINT invoices_numbered_check CHECK (
        status IN ('draft', 'void') OR (number IS NOT NULL AND issue_date IS NOT NULL AND due_date IS NOT NULL)),
    -- The status agrees with the money: paid means nothing is due, partially paid means some of each.
    CONSTRAINT invoices_paid_status_check CHECK (status <> 'paid' OR amount_paid + amount_credited >= total),
    CONSTRAINT invoices_partial_status_check CHECK (
        status <> 'partially_paid' OR (amount_paid > 0 AND amount_paid + amount_credited < total)),
    CONSTRAINT invoices_unpaid_status_check CHECK (status NOT IN ('draft', 'finalized', 'void') OR amount_paid = 0)
);
CREATE INDEX invoices_contract_idx ON invoices (contract_id, period_start);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, created_at);
CREATE INDEX invoices_open_idx ON invoices (due_date) WHERE status IN ('finalized', 'partially_paid');

CREATE TABLE invoice_lines (
    invoice_id   text NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no      integer NOT NULL CHECK (line_no >= 1),
    kind         text NOT NULL,
    component_id text NOT NULL DEFAULT '',
    product      text NOT NULL,
    description  text NOT NULL,
    period_start date,
    period_end   date,
    quantity     numeric NOT NULL,
    unit_price   numeric CHECK (scale(unit_price) <= 12),
    amount       numeric NOT NULL,
    explanation  jsonb,
    PRIMARY KEY (invoice_id, line_no),
    CONSTRAINT invoice_lines_reduction_check CHECK (kind NOT IN ('discount', 'credit') OR amount <= 0)
);

-- Payments applied to invoices, one row per payment key (append-only).
CREATE TABLE invoice_payments (
    key          text PRIMARY KEY,
    input_hash   bytea NOT NULL,
    invoice_id   text NOT NULL REFERENCES invoices (id),
    amount       numeric NOT NULL CHECK (amount > 0),
    received_at  timestamptz NOT NULL,
    method       text NOT NULL DEFAULT '',
    provider_ref text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_payments_invoice_idx ON invoice_payments (invoice_id);

-- Credit notes (append-only): a full or per-line credit of a finalized invoice, numbered in
-- their own gap-free series per billing entity.
CREATE TABLE credit_notes (
    id              text PRIMARY KEY,
    idempotency_key text NOT NULL,
    input_hash      bytea NOT NULL,
    invoice_id      text NOT NULL REFERENCES invoices (id),
    billing_entity  text NOT NULL,
    number          text NOT NULL,
    currency        char(3) NOT NULL,
    reason          text NOT NULL,
    full_credit     boolean NOT NULL,
    issue_date      date NOT NULL,
    total           numeric NOT NULL CHECK (total > 0),
    applied_to_due  numeric NOT NULL CHECK (applied_to_due >= 0),
    excess          numeric NOT NULL CHECK (excess >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_notes_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT credit_notes_number_key UNIQUE (billing_entity, number),
    CONSTRAINT credit_notes_split_check CHECK (applied_to_due + excess = total)
);
CREATE INDEX credit_notes_invoice_idx ON credit_notes (invoice_id);

CREATE TABLE credit_note_lines (
    credit_note_id  text NOT NULL REFERENCES credit_notes (id),
    line_no         integer NOT NULL CHECK (line_no >= 1),
    invoice_line_no integer NOT NULL,
    description     text NOT NULL,
    amount          numeric NOT NULL,
    PRIMARY KEY (credit_note_id, line_no)
);

CREATE TRIGGER invoice_payments_append_only BEFORE UPDATE OR DELETE ON invoice_payments
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER credit_notes_append_only BEFORE UPDATE OR DELETE ON credit_notes
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();
CREATE TRIGGER credit_note_lines_append_only BEFORE UPDATE OR DELETE ON credit_note_lines
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose StatementBegin
CREATE FUNCTION revhub_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line_sum numeric;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is %: delete refused', OLD.id, OLD.status USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        IF NEW.status = 'draft' OR NEW.status = 'void' THEN
            RETURN NEW;
        END IF;
        IF NEW.status NOT IN ('finalized', 'paid') THEN
            RAISE EXCEPTION 'invoice %: transition draft -> % refused', OLD.id, NEW.status USING ERRCODE = 'P0001';
        END IF;
        SELECT COALESCE(sum(amount), 0) INTO line_sum FROM invoice_lines WHERE invoice_id = NEW.id;
        IF line_sum <> NEW.total THEN
            RAISE EXCEPTION 'invoice %: lines sum to % but total is %: finalize refused', NEW.id, line_sum, NEW.total
                USING ERRCODE = 'P0001';
        END IF;
        IF NEW.status = 'paid' AND NEW.total <> 0 THEN
            RAISE EXCEPTION 'invoice %: only a zero-amount invoice is paid at finalization', NEW.id USING ERRCODE = 'P0001';
        END IF;
        RETURN NEW;
    END IF;
    -- Finalized from here on: everything but the controlled life-cycle columns is frozen.
    IF (NEW.id, NEW.idempotency_key, NEW.input_hash, NEW.kind, NEW.contract_id, NEW.contract_version,
        NEW.customer_id, NEW.billing_entity, NEW.currency, NEW.period_start, NEW.period_end, NEW.number,
        NEW.issue_date, NEW.due_date, NEW.payment_terms_days, NEW.memo, NEW.subtotal, NEW.discount,
        NEW.total, NEW.payment_reference, NEW.created_at, NEW.finalized_at)
       IS DISTINCT FROM
       (OLD.id, OLD.idempotency_key, OLD.input_hash, OLD.kind, OLD.contract_id, OLD.contract_version,
        OLD.customer_id, OLD.billing_entity, OLD.currency, OLD.period_start, OLD.period_end, OLD.number,
        OLD.issue_date, OLD.due_date, OLD.payment_terms_days, OLD.memo, OLD.subtotal, OLD.discount,
        OLD.total, OLD.payment_reference, OLD.created_at, OLD.finalized_at) THEN
        RAISE EXCEPTION 'invoice % is %: it is immutable; issue a credit note instead', OLD.id, OLD.status
            USING ERRCODE = 'P0001';
    END IF;
    IF NEW.amount_paid < OLD.amount_paid OR NEW.amount_credited < OLD.amount_credited THEN
        RAISE EXCEPTION 'invoice %: amounts paid and credited only grow', OLD.id USING ERRCODE = 'P0001';
    END IF;
    -- Amounts move only with their records: a payment row or a credit note, inserted first.
    IF NEW.amount_paid <> OLD.amount_paid AND NEW.amount_paid <>
       (SELECT COALESCE(sum(amount), 0) FROM invoice_payments WHERE invoice_id = NEW.id) THEN
        RAISE EXCEPTION 'invoice %: amount_paid % does not match its recorded payments', OLD.id, NEW.amount_paid
            USING ERRCODE = 'P0001';
    END IF;
    IF NEW.amount_credited <> OLD.amount_credited AND NEW.amount_credited <>
       (SELECT COALESCE(sum(total), 0) FROM credit_notes WHERE invoice_id = NEW.id) THEN
        RAISE EXCEPTION 'invoice %: amount_credited % does not match its credit notes', OLD.id, NEW.amount_credited
            USING ERRCODE = 'P0001';
    END IF;
    IF NOT ((OLD.status, NEW.status) IN (
            ('finalized', 'finalized'), ('finalized', 'partially_paid'), ('finalized', 'paid'),
            ('finalized', 'void'), ('finalized', 'uncollectible'),
            ('partially_paid', 'partially_paid'), ('partially_paid', 'paid'), ('partially_paid', 'uncollectible'),
            ('uncollectible', 'uncollectible'), ('uncollectible', 'partially_paid'), ('uncollectible', 'paid'),
            ('uncollectible', 'void'),
            ('paid', 'paid'))) THEN
        RAISE EXCEPTION 'invoice %: transition % -> % refused', OLD.id, OLD.status, NEW.status USING ERRCODE = 'P0001';
    END IF;
    IF NEW.status = 'void' AND (NEW.amount_paid > 0 OR NEW.amount_credited > 0) THEN
        RAISE EXCEPTION 'invoice %: void refused: payments or credit notes are recorded', OLD.id USING ERRCODE = 'P0001';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER invoices_guard BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION revhub_invoice_guard();

-- +goose StatementBegin
CREATE FUNCTION revhub_invoice_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text;
    inv text;
BEGIN
    inv := CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END;
    SELECT status INTO st FROM invoices WHERE id = inv;
    -- A missing parent on DELETE is the cascade from deleting a draft, which the invoice guard allowed.
    IF st IS NOT NULL AND st <> 'draft' THEN
        RAISE EXCEPTION 'invoice % is %: its lines are immutable', inv, st USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.invoice_id <> NEW.invoice_id THEN
        RAISE EXCEPTION 'invoice lines cannot move between invoices' USING ERRCODE = 'P0001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER invoice_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION revhub_invoice_lines_guard();

-- +goose Down
DROP TABLE credit_note_lines;
DROP TABLE credit_notes;
DROP TABLE invoice_payments;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_number_series;
DROP FUNCTION revhub_invoice_lines_guard();
DROP FUNCTION revhub_invoice_guard();
