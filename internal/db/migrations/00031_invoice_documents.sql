-- +goose Up
-- The rendered documents of finalized invoices, as delivered; written once per invoice.
CREATE TABLE invoice_documents (
    invoice_id  text PRIMARY KEY REFERENCES invoices (id),
    html        bytea NOT NULL,
    pdf         bytea NOT NULL,
    html_sha256 bytea NOT NULL,
    pdf_sha256  bytea NOT NULL,
    rendered_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER invoice_documents_append_only BEFORE UPDATE OR DELETE ON invoice_documents
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose Down
DROP TABLE invoice_documents;
