package usage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
)

// Reading is one on-time event's value for a meter: prices that look at each event (a percentage
// of payment volume with a per-transaction fee, minimum and maximum) are rated from these.
type Reading struct {
	ID     string            // the event id
	Time   time.Time         // when the usage happened
	Value  decimal.Decimal   // the meter's value property (1 for COUNT)
	Groups map[string]string // the meter's group-by values
}

// Readings lists the meter's on-time readings of subject in [from, to), oldest first; late events
// are billed as adjustments instead (PendingAdjustments).
func Readings(ctx context.Context, q db.Querier, m *Meter, subject string, from, to time.Time) ([]Reading, error) {
	args := []any{m.EventType, subject, from.UTC(), to.UTC()}
	value := "'1'"
	if m.Aggregation != Count {
		p, err := ParsePath(m.ValueProperty)
		if err != nil {
			return nil, fmt.Errorf("readings of meter %s: value_property: %w", m.Slug, err)
		}
		args = append(args, []string(p))
		value = fmt.Sprintf("data #>> $%d::text[]", len(args))
	}
	names := make([]string, 0, len(m.GroupBy))
	for name := range m.GroupBy {
		names = append(names, name)
	}
	sort.Strings(names)
	cols := []string{value}
	for _, name := range names {
		p, err := ParsePath(m.GroupBy[name])
		if err != nil {
			return nil, fmt.Errorf("readings of meter %s: group_by.%s: %w", m.Slug, name, err)
		}
		args = append(args, []string(p))
		cols = append(cols, fmt.Sprintf("coalesce(data #>> $%d::text[], '')", len(args)))
	}
	rows, err := q.Query(ctx, `SELECT id, time, `+strings.Join(cols, ", ")+` FROM usage_events
		WHERE type = $1 AND subject = $2 AND time >= $3 AND time < $4 AND NOT late ORDER BY time, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("readings of meter %s for %s: %w", m.Slug, subject, err)
	}
	defer rows.Close()
	var out []Reading
	for rows.Next() {
		var r Reading
		var v *string
		groups := make([]string, len(names))
		dest := []any{&r.ID, &r.Time, &v}
		for i := range groups {
			dest = append(dest, &groups[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("readings of meter %s: %w", m.Slug, err)
		}
		if v == nil {
			return nil, fmt.Errorf("readings of meter %s: event %s: %s is missing", m.Slug, r.ID, m.ValueProperty)
		}
		if r.Value, err = decimal.NewFromString(*v); err != nil {
			return nil, fmt.Errorf("readings of meter %s: event %s: value %q is not a number", m.Slug, r.ID, *v)
		}
		r.Time = r.Time.UTC()
		if len(names) > 0 {
			r.Groups = make(map[string]string, len(names))
			for i, n := range names {
				r.Groups[n] = groups[i]
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("readings of meter %s: %w", m.Slug, err)
	}
	return out, nil
}
