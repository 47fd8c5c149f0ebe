-- +goose Up
-- CRM intake: deals revhub refused to turn into contracts, and signed push notifications already
-- received (so a replay is caught by every API instance).

-- One row per rejected state of a deal: the Opportunity, the SystemModstamp that was read and every
-- problem (field path and reason). A deal read again with the same problems is not recorded twice;
-- an edit that is still unmappable for other reasons is a new row. Rows are never changed.
CREATE TABLE crm_rejections (
    id              bigserial PRIMARY KEY,
    source          text NOT NULL CHECK (source IN ('salesforce')),
    opportunity_id  text NOT NULL CHECK (opportunity_id <> ''),
    system_modstamp timestamptz NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('unmappable_deal', 'amendment_refused')),
    field           text NOT NULL,
    reason          text NOT NULL,
    problems        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT crm_rejections_state_key UNIQUE (source, opportunity_id, system_modstamp, kind)
);
CREATE INDEX crm_rejections_opportunity_idx ON crm_rejections (source, opportunity_id, system_modstamp DESC);

CREATE TRIGGER crm_rejections_append_only BEFORE UPDATE OR DELETE ON crm_rejections
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- Signatures of push notifications seen, until they expire (the verifier's tolerance).
CREATE TABLE crm_notification_replays (
    key        text PRIMARY KEY CHECK (key <> ''),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX crm_notification_replays_expiry_idx ON crm_notification_replays (expires_at);

-- +goose Down
DROP TABLE crm_notification_replays;
DROP TABLE crm_rejections;
