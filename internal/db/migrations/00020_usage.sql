-- +goose Up
-- Meters: which event type they read, how they aggregate, and which data properties group them.
-- A meter is immutable once created (its rollups depend on its definition): define a new slug instead.
CREATE TABLE usage_meters (
    slug           text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    event_type     text NOT NULL CHECK (event_type <> ''),
    aggregation    text NOT NULL CHECK (aggregation IN ('SUM', 'COUNT', 'MAX', 'UNIQUE_COUNT', 'LATEST')),
    value_property text NOT NULL DEFAULT '',
    group_by       jsonb NOT NULL DEFAULT '{}'::jsonb,
    description    text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((aggregation = 'COUNT') = (value_property = ''))
);
CREATE INDEX usage_meters_event_type_idx ON usage_meters (event_type);
CREATE TRIGGER usage_meters_immutable BEFORE UPDATE OR DELETE ON usage_meters
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- Dedup index over every event ever stored: key = first 16 bytes of sha256(source NUL id),
-- content_hash = first 16 bytes of sha256 of the event's content (detects conflicting duplicates).
-- Both are stored as uuid: fixed 16 bytes, compared with memcmp (faster than bytea).
CREATE TABLE usage_event_keys (
    key          uuid PRIMARY KEY,
    content_hash uuid NOT NULL,
    time         timestamptz NOT NULL
);

-- The raw events, partitioned by month of the event time; partitions are created on demand
-- (usage_ensure_partition) before an ingest transaction needs them. Append-only.
CREATE TABLE usage_events (
    time        timestamptz NOT NULL,
    key         uuid NOT NULL,
    source      text NOT NULL,
    id          text NOT NULL,
    subject     text NOT NULL,
    type        text NOT NULL,
    data        jsonb,
    late        boolean NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (time);
CREATE TRIGGER usage_events_append_only BEFORE UPDATE OR DELETE ON usage_events
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- +goose StatementBegin
CREATE FUNCTION usage_ensure_partition(t timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    lo   timestamptz := date_trunc('month', t, 'UTC');
    hi   timestamptz := (date_trunc('month', t, 'UTC') AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'usage_events_' || to_char(lo AT TIME ZONE 'UTC', 'YYYY"m"MM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN name;
    END IF;
    PERFORM pg_advisory_xact_lock(727276);
    BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
        NULL; -- created by a concurrent caller
    END;
    RETURN name;
END;
$$;
-- +goose StatementEnd

-- Text keys of the hot tables use the "C" collation: byte order, no locale lookups in comparisons.
-- groups is the canonical JSON text of the group-by values (sorted names, as written by revhub), cheaper
-- to compare in the primary key than jsonb; queries cast it to jsonb to read a property.

-- Hourly rollups per meter, subject and group-by values, maintained in the ingest transaction.
-- count and sum serve COUNT and SUM, max serves MAX, latest (ordered by latest_time, latest_key) serves LATEST.
-- slot is the ingest slot that wrote the row: concurrent ingest transactions hold different slots,
-- so they never wait on each other's rollup rows; queries aggregate over slots as over hours.
CREATE TABLE usage_rollups (
    meter       text COLLATE "C" NOT NULL,
    subject     text COLLATE "C" NOT NULL,
    hour        timestamptz NOT NULL,
    groups      text COLLATE "C" NOT NULL,
    slot        smallint NOT NULL,
    count       bigint NOT NULL,
    sum         numeric NOT NULL,
    max         numeric,
    latest      numeric,
    latest_time timestamptz,
    latest_key  uuid,
    PRIMARY KEY (meter, subject, hour, groups, slot)
) WITH (fillfactor = 70); -- room on each page for HOT updates: no index insert per rollup update

-- Distinct values per hour for UNIQUE_COUNT meters (distinct counts do not add up across hours).
CREATE TABLE usage_rollup_distinct (
    meter   text COLLATE "C" NOT NULL,
    subject text COLLATE "C" NOT NULL,
    hour    timestamptz NOT NULL,
    groups  text COLLATE "C" NOT NULL,
    value   text COLLATE "C" NOT NULL,
    slot    smallint NOT NULL,
    PRIMARY KEY (meter, subject, hour, groups, value, slot)
);

-- Periods already invoiced per subject (written by invoicing through usage.ClosePeriod).
-- Events that fall into one arrive too late: they are stored, flagged and become adjustments.
CREATE TABLE usage_closed_periods (
    subject      text COLLATE "C" NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    reference    text NOT NULL CHECK (reference <> ''),
    closed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, period_start),
    CHECK (period_end > period_start)
);
CREATE TRIGGER usage_closed_periods_append_only BEFORE UPDATE OR DELETE ON usage_closed_periods
    FOR EACH ROW EXECUTE FUNCTION revhub_refuse_change();

-- Late events' meter values, waiting for the next invoice of their subject (applied_ref set then).
CREATE TABLE usage_adjustments (
    key          uuid NOT NULL,
    meter        text COLLATE "C" NOT NULL,
    subject      text COLLATE "C" NOT NULL,
    event_time   timestamptz NOT NULL,
    groups       jsonb NOT NULL,
    value        numeric,
    unique_value text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    applied_ref  text,
    applied_at   timestamptz,
    PRIMARY KEY (key, meter)
);
CREATE INDEX usage_adjustments_pending_idx ON usage_adjustments (subject) WHERE applied_ref IS NULL;

-- Progress of `revhub usage import` runs, written in the same transaction as each imported batch.
CREATE TABLE usage_import_checkpoints (
    name        text PRIMARY KEY,
    fingerprint bytea NOT NULL,
    byte_offset bigint NOT NULL,
    line        bigint NOT NULL,
    events      bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE usage_import_checkpoints;
DROP TABLE usage_adjustments;
DROP TABLE usage_closed_periods;
DROP TABLE usage_rollup_distinct;
DROP TABLE usage_rollups;
DROP FUNCTION usage_ensure_partition(timestamptz);
DROP TABLE usage_events;
DROP TABLE usage_event_keys;
DROP TABLE usage_meters;
