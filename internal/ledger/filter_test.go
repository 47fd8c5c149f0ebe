package ledger

import (
	"fmt"
	"testing"
)

// Only the set fields of a balance query become conditions, numbered after the caller's parameters.
func TestEntryFilter(t *testing.T) {
	for _, tc := range []struct {
		bq      BalanceQuery
		pre     []any
		account bool
		where   string
		args    string
	}{
		{BalanceQuery{}, nil, true, "true", "[]"},
		{BalanceQuery{Entity: "us"}, nil, false, "true AND e.entity = $1", "[us]"},
		{BalanceQuery{Entity: "us", FromPeriod: "2026-01", ToPeriod: "2026-03", Account: "1100"}, nil, true,
			"true AND e.entity = $1 AND e.period >= $2 AND e.period <= $3 AND p.account = $4", "[us 2026-01 2026-03 1100]"},
		{BalanceQuery{ToPeriod: "2026-03", Account: "1100"}, []any{"netsuite", 500}, false, "true AND e.period <= $3", "[netsuite 500 2026-03]"},
	} {
		where, args := tc.bq.entryFilter(tc.pre, tc.account)
		if where != tc.where || fmt.Sprint(args) != tc.args {
			t.Errorf("%+v (account %v): got %q %v, want %q %s", tc.bq, tc.account, where, args, tc.where, tc.args)
		}
	}
}
