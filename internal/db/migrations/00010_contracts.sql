-- +goose Up
-- Contracts: a stable id per customer agreement; the terms live in append-only versions.
CREATE TABLE contracts (
    id                   text PRIMARY KEY,
    customer_external_id text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contracts_customer_idx ON contracts (customer_external_id);

-- Contract versions: the whole version document as jsonb plus the columns queries need.
-- A version is never changed; an amendment is a new version with a later effective date.
CREATE TABLE contract_versions (
    contract_id          text NOT NULL REFERENCES contracts (id),
    version              integer NOT NULL CHECK (version >= 1),
    effective_from       date NOT NULL,
    status               text NOT NULL CHECK (status IN ('draft', 'active', 'ended', 'cancelled')),
    customer_external_id text NOT NULL,
    currency             char(3) NOT NULL,
    billing_entity       text NOT NULL,
    payment_provider     text NOT NULL CHECK (payment_provider IN ('stripe', 'paypal', 'bank')),
    payment_method       text NOT NULL DEFAULT '',
    cadence              text NOT NULL CHECK (cadence IN ('monthly', 'quarterly', 'annual')),
    timing               text NOT NULL CHECK (timing IN ('in_advance', 'in_arrears')),
    start_date           date NOT NULL,
    end_date             date CHECK (end_date IS NULL OR end_date > start_date),
    document             jsonb NOT NULL,
    document_hash        bytea NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contract_versions_contract_version_key UNIQUE (contract_id, version),
    CONSTRAINT contract_versions_effective_key UNIQUE (contract_id, effective_from)
);
CREATE INDEX contract_versions_customer_idx ON contract_versions (customer_external_id, effective_from);
CREATE INDEX contract_versions_status_idx ON contract_versions (status, effective_from);

CREATE TRIGGER contract_versions_append_only BEFORE UPDATE OR DELETE ON contract_versions
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose Down
DROP TABLE contract_versions;
DROP TABLE contracts;
