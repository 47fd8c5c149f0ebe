package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/revrec"
)

// saveAnnualPlatform stores the schedule of a 2026 platform fee of 12,000.00 invoiced on 1 January.
func saveAnnualPlatform(t *testing.T, ctx context.Context, d *dbtest.DB) {
	t.Helper()
	jan1, end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	a := revrec.Arrangement{ID: "ctr_api", CustomerID: "cus_api", EntityID: "revhub-us", Currency: "USD",
		Obligations: []revrec.Obligation{{ID: "platform", Product: "platform", Kind: revrec.KindPlatform,
			Price: decimal.RequireFromString("12000.00"), Start: jan1, End: end}},
		Billings: []revrec.Billing{{ID: "inv_1", ObligationID: "platform", Date: jan1, Amount: decimal.RequireFromString("12000.00")}}}
	s, err := revrec.Compute(a, revrec.DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	hash, err := revrec.InputHash(a, revrec.DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := revrec.SaveSchedule(ctx, d.Pool, s, hash, revrec.Month{}); err != nil {
		t.Fatal(err)
	}
}

func TestRevenueReports(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	saveAnnualPlatform(t, ctx, d)
	h := api.New(api.Deps{Pool: d.Pool, Routes: api.CapabilityRoutes(api.Capabilities{Pool: d.Pool})}).Handler()
	reader, err := apikey.Create(ctx, d.Pool, "controller", []string{"read"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, key string) (int, string, string) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, rec.Header().Get("Content-Type"), string(body)
	}

	code, ctype, body := get("/v1/reports/revenue/waterfall?from=2026-01&to=2026-03", reader.Secret)
	want := "customer_id,entity_id,arrangement_id,obligation_id,product,currency,2026-01,2026-02,2026-03,total\n" +
		"cus_api,revhub-us,ctr_api,platform,platform,USD,1019.18,920.54,1019.18,2958.90\n"
	if code != 200 || !strings.HasPrefix(ctype, "text/csv") || body != want {
		t.Fatalf("waterfall: %d %s\n%s\nwant\n%s", code, ctype, body, want)
	}
	// Balances start from the arrangement's first month, whatever from is.
	code, _, body = get("/v1/reports/revenue/roll-forward?from=2026-02&to=2026-02&entity_id=revhub-us", reader.Secret)
	if want := "entity_id,currency,month,opening_deferred,opening_unbilled,billings,revenue,breakage,closing_deferred,closing_unbilled\n" +
		"revhub-us,USD,2026-02,10980.82,0.00,0.00,920.54,0.00,10060.28,0.00\n"; code != 200 || body != want {
		t.Fatalf("roll-forward: %d\n%s", code, body)
	}
	code, _, body = get("/v1/reports/revenue/recognized?from=2026-01&to=2026-12&dimension=product&customer_id=cus_other", reader.Secret)
	if lines := strings.Split(strings.TrimSpace(body), "\n"); code != 200 || len(lines) != 1 {
		t.Fatalf("recognized for another customer: %d\n%s", code, body)
	}

	// Every bad parameter at once, in the JSON error shape.
	code, ctype, body = get("/v1/reports/revenue/waterfall?from=2026-13&dimension=product", reader.Secret)
	var eb struct {
		Error api.Error `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &eb); err != nil || code != 400 || !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("bad parameters: %d %s %s", code, ctype, body)
	}
	fields := map[string]bool{}
	for _, det := range eb.Error.Details {
		fields[det.Field] = det.Reason != ""
	}
	if eb.Error.Code != "invalid_parameter" || eb.Error.Field != "from" || !fields["from"] || !fields["to"] || !fields["dimension"] || len(fields) != 3 {
		t.Fatalf("bad parameters: %+v", eb.Error)
	}
	code, _, body = get("/v1/reports/revenue/forecast?from=2026-01&to=2026-02", reader.Secret)
	if code != 400 || !strings.Contains(body, `"field":"kind"`) {
		t.Fatalf("unknown kind: %d %s", code, body)
	}

	// A key is required; a process without PostgreSQL answers 503.
	if code, _, _ = get("/v1/reports/revenue/waterfall?from=2026-01&to=2026-03", ""); code != 401 {
		t.Fatalf("no key: %d", code)
	}
	var route api.Route
	for _, r := range api.CapabilityRoutes(api.Capabilities{}) {
		if r.Path == "/v1/reports/revenue/{kind}" {
			route = r
		}
	}
	if route.Handler == nil || route.Scope != api.ScopeRead {
		t.Fatalf("route: %+v", route)
	}
	rec := httptest.NewRecorder()
	route.Handler(rec, httptest.NewRequest("GET", "/v1/reports/revenue/waterfall?from=2026-01&to=2026-03", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
		t.Fatalf("without a pool: %d %s", rec.Code, rec.Body.String())
	}
}
