package usage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
)

// Window is the size of the time buckets a meter query returns.
type Window string

// Query windows; the empty window returns one bucket for the whole range.
const (
	WindowNone  Window = ""
	WindowHour  Window = "HOUR"
	WindowDay   Window = "DAY"
	WindowMonth Window = "MONTH"
)

// QueryParams select what a meter query aggregates. From and To must fall on whole UTC hours
// (rollups are hourly); To is exclusive. An empty Subject returns every subject.
type QueryParams struct {
	Meter   string
	Subject string
	From    time.Time
	To      time.Time
	Window  Window
	GroupBy []string
}

// Row is one aggregated value of a meter query.
type Row struct {
	WindowStart time.Time         `json:"window_start"`
	WindowEnd   time.Time         `json:"window_end"`
	Subject     string            `json:"subject"`
	Groups      map[string]string `json:"groups,omitempty"`
	Value       decimal.Decimal   `json:"value"`
}

// Validate checks the parameters against the meter set, naming each bad parameter.
func (p *QueryParams) Validate(meters *MeterSet) (*Meter, []Problem) {
	var probs []Problem
	bad := func(field, reason string) { probs = append(probs, Problem{Index: -1, Field: field, Reason: reason}) }
	m := meters.Get(p.Meter)
	if m == nil {
		bad("meter", fmt.Sprintf("no meter %q", truncate(p.Meter)))
	}
	if !p.From.Equal(p.From.Truncate(time.Hour)) {
		bad("from", "must fall on a whole UTC hour")
	}
	if !p.To.Equal(p.To.Truncate(time.Hour)) {
		bad("to", "must fall on a whole UTC hour")
	}
	if !p.To.After(p.From) {
		bad("to", "must be after from")
	}
	switch p.Window {
	case WindowNone, WindowHour, WindowDay, WindowMonth:
	default:
		bad("window", fmt.Sprintf("must be HOUR, DAY or MONTH, got %q", truncate(string(p.Window))))
	}
	seen := map[string]bool{}
	for _, g := range p.GroupBy {
		switch {
		case m != nil && !m.HasGroup(g):
			bad("group_by", fmt.Sprintf("%q is not a group-by property of meter %s", truncate(g), m.Slug))
		case seen[g]:
			bad("group_by", fmt.Sprintf("%q is listed twice", truncate(g)))
		}
		seen[g] = true
	}
	return m, probs
}

// Query aggregates a meter's hourly rollups over [From, To) per window, subject and requested groups.
// Late events (in invoiced periods) are not in the rollups: see PendingAdjustments.
func Query(ctx context.Context, q db.Querier, meters *MeterSet, p QueryParams) ([]Row, error) {
	m, probs := p.Validate(meters)
	if len(probs) > 0 {
		return nil, &InvalidError{Problems: probs}
	}
	from, to := p.From.UTC(), p.To.UTC()
	sql, args := querySQL(m, p)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("query meter %s: %w", m.Slug, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var value string
		dest := []any{&r.WindowStart, &r.Subject}
		gv := make([]*string, len(p.GroupBy))
		for i := range gv {
			dest = append(dest, &gv[i])
		}
		dest = append(dest, &value)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("query meter %s: %w", m.Slug, err)
		}
		if r.Value, err = decimal.NewFromString(value); err != nil {
			return nil, fmt.Errorf("query meter %s: value %q: %w", m.Slug, value, err)
		}
		r.WindowStart = r.WindowStart.UTC()
		if r.WindowStart.Before(from) {
			r.WindowStart = from // the first DAY or MONTH bucket starts at the query's start
		}
		r.WindowEnd = windowEnd(r.WindowStart, p.Window, to)
		if len(gv) > 0 {
			r.Groups = make(map[string]string, len(gv))
			for i, g := range p.GroupBy {
				if gv[i] != nil {
					r.Groups[g] = *gv[i]
				} else {
					r.Groups[g] = ""
				}
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query meter %s: %w", m.Slug, err)
	}
	return out, nil
}

// querySQL is the statement of a validated query and its arguments.
func querySQL(m *Meter, p QueryParams) (string, []any) {
	bucket := "$2::timestamptz"
	if p.Window != WindowNone {
		bucket = fmt.Sprintf("date_trunc('%s', hour, 'UTC')", strings.ToLower(string(p.Window)))
	}
	// The subject is a condition only when given: an ($n = '' OR subject = $n) form would make the
	// cached generic plan of the prepared statement scan every subject of the meter.
	args := []any{m.Slug, p.From.UTC(), p.To.UTC()}
	where := "meter = $1 AND hour >= $2 AND hour < $3"
	if p.Subject != "" {
		args = append(args, p.Subject)
		where += fmt.Sprintf(" AND subject = $%d", len(args))
	}
	var sel, group []string
	for i, g := range p.GroupBy {
		args = append(args, g)
		sel = append(sel, fmt.Sprintf(", groups::jsonb->>$%d", len(args)))
		group = append(group, fmt.Sprintf(", %d", i+3))
	}
	var agg, table string
	switch m.Aggregation {
	case Sum, Count:
		agg, table = "sum(sum)", "usage_rollups"
	case Max:
		agg, table = "max(max)", "usage_rollups"
	case Latest:
		agg, table = "(array_agg(latest ORDER BY latest_time DESC, latest_key DESC))[1]", "usage_rollups"
	case UniqueCount:
		agg, table = "count(DISTINCT value)", "usage_rollup_distinct"
	}
	sql := fmt.Sprintf(`SELECT %s AS w, subject%s, %s::text FROM %s WHERE %s
		GROUP BY 1, 2%s ORDER BY 1, 2%s`, bucket, strings.Join(sel, ""), agg, table, where, strings.Join(group, ""), strings.Join(group, ""))
	return sql, args
}

// windowEnd is the exclusive end of the bucket starting at start, clipped to the query's end.
func windowEnd(start time.Time, w Window, to time.Time) time.Time {
	var end time.Time
	switch w {
	case WindowHour:
		end = start.Add(time.Hour)
	case WindowDay:
		end = start.AddDate(0, 0, 1)
	case WindowMonth:
		end = start.AddDate(0, 1, 0)
	default:
		return to
	}
	if end.After(to) {
		return to
	}
	return end
}
