package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// ErrMeterConflict means a meter with the slug exists with another definition.
var ErrMeterConflict = errors.New("a meter with this slug exists with a different definition")

// InsertMeter validates and stores m; storing an identical definition again is a no-op
// (created is false), a different one fails with ErrMeterConflict.
func InsertMeter(ctx context.Context, q db.Querier, m *Meter) (created bool, err error) {
	if probs := m.Validate(""); len(probs) > 0 {
		return false, &InvalidError{Problems: probs}
	}
	groups, err := json.Marshal(nonNilMap(m.GroupBy))
	if err != nil {
		return false, fmt.Errorf("meter %s: group_by: %w", m.Slug, err)
	}
	tag, err := q.Exec(ctx, `INSERT INTO usage_meters (slug, event_type, aggregation, value_property, group_by, description)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (slug) DO NOTHING`,
		m.Slug, m.EventType, string(m.Aggregation), m.ValueProperty, groups, m.Description)
	if err != nil {
		return false, fmt.Errorf("insert meter %s: %w", m.Slug, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	existing, err := GetMeter(ctx, q, m.Slug)
	if err != nil {
		return false, err
	}
	if !existing.Same(m) {
		return false, fmt.Errorf("meter %s: %w", m.Slug, ErrMeterConflict)
	}
	return false, nil
}

// ErrMeterNotFound means no meter has the slug.
var ErrMeterNotFound = errors.New("meter not found")

const meterColumns = `slug, event_type, aggregation, value_property, group_by, description`

// GetMeter reads one meter by slug.
func GetMeter(ctx context.Context, q db.Querier, slug string) (*Meter, error) {
	rows, err := q.Query(ctx, `SELECT `+meterColumns+` FROM usage_meters WHERE slug = $1`, slug)
	if err != nil {
		return nil, fmt.Errorf("read meter %s: %w", slug, err)
	}
	ms, err := scanMeters(rows)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("meter %s: %w", slug, ErrMeterNotFound)
	}
	return ms[0], nil
}

// ListMeters reads every meter, sorted by slug.
func ListMeters(ctx context.Context, q db.Querier) ([]*Meter, error) {
	rows, err := q.Query(ctx, `SELECT `+meterColumns+` FROM usage_meters ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("list meters: %w", err)
	}
	return scanMeters(rows)
}

func scanMeters(rows pgx.Rows) ([]*Meter, error) {
	defer rows.Close()
	var out []*Meter
	for rows.Next() {
		m := &Meter{}
		var agg string
		var groups []byte
		if err := rows.Scan(&m.Slug, &m.EventType, &agg, &m.ValueProperty, &groups, &m.Description); err != nil {
			return nil, fmt.Errorf("read meters: %w", err)
		}
		m.Aggregation = Aggregation(agg)
		if err := json.Unmarshal(groups, &m.GroupBy); err != nil {
			return nil, fmt.Errorf("meter %s: group_by: %w", m.Slug, err)
		}
		if len(m.GroupBy) == 0 {
			m.GroupBy = nil
		}
		if probs := m.Validate(""); len(probs) > 0 {
			return nil, fmt.Errorf("stored meter %s is invalid: %s", m.Slug, joinProblems(probs))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read meters: %w", err)
	}
	return out, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
