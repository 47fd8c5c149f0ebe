package usage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/usage"
)

// A prepared query is planned generically after a few executions (pgx prepares every statement):
// its plan must still find one subject through the primary key instead of scanning every subject
// of the meter, which made the billing cycle's usage reads grow with the number of customers.
func TestQueryGenericPlanSeeksTheSubject(t *testing.T) {
	in, _ := newIngester(t)
	ctx := context.Background()
	conn, err := in.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		meter   string
		window  usage.Window
		groupBy []string
		index   string
	}{
		{"tokens", usage.WindowDay, []string{"model"}, "usage_rollups_pkey"},
		{"requests", usage.WindowNone, nil, "usage_rollups_pkey"},
		{"peak-gpus", usage.WindowHour, nil, "usage_rollups_pkey"},
		{"seats", usage.WindowMonth, nil, "usage_rollups_pkey"},
		{"users", usage.WindowDay, nil, "usage_rollup_distinct_pkey"},
	} {
		p := usage.QueryParams{Meter: tc.meter, Subject: "cus_1", From: t0, To: t0.Add(30 * 24 * time.Hour), Window: tc.window, GroupBy: tc.groupBy}
		m, probs := p.Validate(in.Meters())
		if len(probs) > 0 {
			t.Fatalf("%s: %v", tc.meter, probs)
		}
		sql, args := usage.QuerySQL(m, p)
		name := "q_" + strings.ReplaceAll(tc.meter, "-", "_")
		if _, err := conn.Conn().Prepare(ctx, name, sql); err != nil {
			t.Fatalf("%s: prepare: %v", tc.meter, err)
		}
		// EXPLAIN takes no parameters: the arguments go in as literals.
		lits := make([]string, len(args))
		for i, a := range args {
			switch v := a.(type) {
			case string:
				lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			case time.Time:
				lits[i] = "'" + v.Format(time.RFC3339) + "'::timestamptz"
			default:
				t.Fatalf("%s: argument %d: unexpected %T", tc.meter, i+1, a)
			}
		}
		var plan strings.Builder
		rows, err := conn.Query(ctx, `EXPLAIN EXECUTE `+name+`(`+strings.Join(lits, ", ")+`)`)
		if err != nil {
			t.Fatalf("%s: explain: %v", tc.meter, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: explain: %v", tc.meter, err)
		}
		got := plan.String()
		if !strings.Contains(got, "Index Cond: ((meter = $1) AND (subject = $4)") || !strings.Contains(got, tc.index) {
			t.Errorf("%s: the generic plan does not seek meter and subject in %s:\n%s", tc.meter, tc.index, got)
		}
		if strings.Contains(got, "Filter:") {
			t.Errorf("%s: the generic plan filters rows after the index:\n%s", tc.meter, got)
		}
	}
}
