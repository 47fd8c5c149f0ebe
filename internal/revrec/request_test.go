package revrec

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/revhub/revhub/internal/dbtest"
)

func TestParseReportRequest(t *testing.T) {
	_, err := ParseReportRequest("recognized", url.Values{"from": {"2026-13"}, "dimension": {"region"}})
	var ir *InvalidRequest
	if !errors.As(err, &ir) {
		t.Fatalf("err = %v", err)
	}
	got := map[string]bool{}
	for _, p := range ir.Problems {
		got[p.Field] = true
	}
	for _, f := range []string{"from", "to", "dimension"} {
		if !got[f] {
			t.Errorf("no problem for %s: %v", f, ir.Problems)
		}
	}
	if _, err := ParseReportRequest("waterfall", url.Values{"from": {"2026-06"}, "to": {"2026-01"}}); err == nil || !strings.Contains(err.Error(), "to: must not be before from") {
		t.Errorf("reversed months: %v", err)
	}
	if _, err := ParseReportRequest("pie-chart", url.Values{"from": {"2026-01"}, "to": {"2026-02"}}); err == nil || !strings.Contains(err.Error(), "report:") {
		t.Errorf("unknown report: %v", err)
	}
	r, err := ParseReportRequest("recognized", url.Values{"from": {"2026-01"}, "to": {"2026-12"}, "dimension": {"customer"}, "entity_id": {"us"}})
	if err != nil || r.Dimension != ByCustomer || r.EntityID != "us" || r.To != MustMonth("2026-12") {
		t.Fatalf("r = %+v, %v", r, err)
	}
}

func TestWriteReportFromStore(t *testing.T) {
	ctx := context.Background()
	tdb := dbtest.New(t)
	_, exs := exampleLines(t)
	for _, n := range []string{"usage-minimum", "prepaid-credits", "upsell-amendment"} {
		ex := exs[n]
		h, err := InputHash(ex.input, DefaultSSPTable())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := SaveSchedule(ctx, tdb.Pool, ex.sched, h, Month{}); err != nil {
			t.Fatal(err)
		}
	}
	write := func(kind string, q url.Values) string {
		t.Helper()
		r, err := ParseReportRequest(kind, q)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteReport(ctx, tdb.Pool, &b, r); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	// Entity us in February: example 3 (unbilled 1,250 -> 1,000) and example 5 (deferred 10,980.82 -> 10,060.28);
	// the opening balances come from January, which the report does not show.
	got := write("roll-forward", url.Values{"from": {"2026-02"}, "to": {"2026-02"}, "entity_id": {"us"}})
	want := "entity_id,currency,month,opening_deferred,opening_unbilled,billings,revenue,breakage,closing_deferred,closing_unbilled\n" +
		"us,USD,2026-02,10980.82,1250.00,1250.00,1560.54,360.00,10060.28,1000.00\n"
	if got != want {
		t.Errorf("roll-forward:\n%s\nwant:\n%s", got, want)
	}
	got = write("recognized", url.Values{"from": {"2026-06"}, "to": {"2026-06"}, "dimension": {"entity"}})
	want = "entity,currency,month,revenue,breakage,total\neu,USD,2026-06,500.00,1000.00,1500.00\nus,USD,2026-06,986.30,0.00,986.30\n"
	if got != want {
		t.Errorf("recognized:\n%s\nwant:\n%s", got, want)
	}
	got = write("journal", url.Values{"from": {"2026-06"}, "to": {"2026-06"}, "arrangement_id": {"ex4"}})
	want = "key,date,entity_id,kind,currency,account,debit,credit\n" +
		"revrec:ex4:2026-06:recognition,2026-06-30,eu,recognition,USD,2400,500.00,\n" +
		"revrec:ex4:2026-06:recognition,2026-06-30,eu,recognition,USD,4030,,500.00\n" +
		"revrec:ex4:2026-06:breakage,2026-06-30,eu,breakage,USD,2400,1000.00,\n" +
		"revrec:ex4:2026-06:breakage,2026-06-30,eu,breakage,USD,4950,,1000.00\n"
	if got != want {
		t.Errorf("journal:\n%s\nwant:\n%s", got, want)
	}
	if got := write("schedule", url.Values{"from": {"2026-07"}, "to": {"2026-07"}, "customer_id": {"acme"}}); strings.Count(got, "\n") != 3 {
		t.Errorf("schedule July acme (platform and seats):\n%s", got)
	}
	if got := write("waterfall", url.Values{"from": {"2026-01"}, "to": {"2026-03"}, "arrangement_id": {"ex3"}}); !strings.Contains(got, "ex3,api,api_calls,USD,1250.00,1000.00,1000.00,3250.00") {
		t.Errorf("waterfall:\n%s", got)
	}
}
