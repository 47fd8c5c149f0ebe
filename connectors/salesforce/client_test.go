package salesforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/connectors/salesforce/fake"
)

const (
	acmeOpp   = "0065g00000acme1AAA"
	starkOpp  = "0065g00000starkAAA"
	brokenOpp = "0065g00000broknAAA"
)

// wonDeals are the seeded won Opportunities, in seeding (and so SystemModstamp) order.
var wonDeals = []string{acmeOpp, "0065g00000globxAAA", "0065g00000initcAAA", "0065g00000umbrlAAA", "0065g00000hooliAAA", brokenOpp}

func newOrg(t *testing.T, opts fake.Options) (*fake.Server, string) {
	t.Helper()
	srv := fake.New(opts)
	if err := srv.Seed(fake.DefaultFixture()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func newClient(t *testing.T, srv *fake.Server, url string, mutate ...func(*salesforce.Config)) *salesforce.RESTClient {
	t.Helper()
	cfg := salesforce.Config{
		LoginURL:      url,
		ClientID:      srv.ClientID(),
		ClientSecret:  srv.ClientSecret(),
		MultiCurrency: true,
		Retry:         salesforce.RetryOptions{Max: 3, WaitMin: 5 * time.Millisecond, WaitMax: 20 * time.Millisecond, AttemptTimeout: 2 * time.Second},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := salesforce.New(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

func ids(deals []salesforce.Deal) []string {
	out := make([]string, len(deals))
	for i, d := range deals {
		out[i] = d.Opportunity.ID
	}
	return out
}

func TestClosedWonSincePagesAcrossThreePages(t *testing.T) {
	srv, url := newOrg(t, fake.Options{PageSize: 2})
	c := newClient(t, srv, url)

	deals, err := c.ClosedWonSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatalf("ClosedWonSince: %v", err)
	}
	if got := ids(deals); !slices.Equal(got, wonDeals) {
		t.Fatalf("deals = %v, want %v (won only, in SystemModstamp order)", got, wonDeals)
	}
	more := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/query/01g") {
			more++
		}
	}
	// 6 Opportunities in pages of 2: the first page plus 2 nextRecordsUrl pages; 17 line items: 1 + 8.
	if more != 2+8 {
		t.Errorf("nextRecordsUrl pages fetched = %d, want 10", more)
	}
	acme := deals[0]
	if acme.Account == nil || acme.Account.Name != "Acme Corp" || acme.Account.CurrencyIsoCode != "USD" {
		t.Errorf("acme account = %+v", acme.Account)
	}
	if len(acme.LineItems) != 2 {
		t.Fatalf("acme line items = %d, want 2", len(acme.LineItems))
	}
	seats := acme.LineItems[1]
	if seats.Product == nil || seats.Product.ProductCode != "SEATS" || seats.Product.PriceModel != "seats" {
		t.Errorf("seats product = %+v", seats.Product)
	}
	// 25 x 360.00 less 10% = 8100.00, computed by the org; Amount is the sum of the lines.
	if seats.TotalPrice == nil || !seats.TotalPrice.Equal(decimal.RequireFromString("8100")) {
		t.Errorf("seats TotalPrice = %v, want 8100", seats.TotalPrice)
	}
	if acme.Opportunity.Amount == nil || !acme.Opportunity.Amount.Equal(decimal.RequireFromString("20100")) {
		t.Errorf("acme Amount = %v, want 20100", acme.Opportunity.Amount)
	}
	if acme.Opportunity.CurrencyIsoCode != "USD" || acme.Opportunity.BillingEntity != "revhub-us" {
		t.Errorf("acme currency/entity = %q/%q", acme.Opportunity.CurrencyIsoCode, acme.Opportunity.BillingEntity)
	}
	if len(acme.Problems) != 0 {
		t.Errorf("acme problems = %v", acme.Problems)
	}
}

func TestClosedWonSinceWatermarkSeesNewlyWonDeal(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url)
	ctx := context.Background()
	deals, err := c.ClosedWonSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	watermark := deals[len(deals)-1].Opportunity.SystemModstamp
	time.Sleep(1100 * time.Millisecond) // let the next change fall in a later second than the watermark
	if err := srv.CloseWon(starkOpp, "2026-02-20"); err != nil {
		t.Fatal(err)
	}
	deals, err = c.ClosedWonSince(ctx, watermark)
	if err != nil {
		t.Fatal(err)
	}
	// The poll overlaps the watermark's second (Salesforce compares to the second), and ends with the new deal.
	if len(deals) == 0 || deals[len(deals)-1].Opportunity.ID != starkOpp {
		t.Fatalf("deals since watermark = %v, want them to end with %s", ids(deals), starkOpp)
	}
	for _, d := range deals {
		if d.Opportunity.SystemModstamp.Before(watermark.Truncate(time.Second)) {
			t.Errorf("%s modified %v, before the watermark %v", d.Opportunity.ID, d.Opportunity.SystemModstamp, watermark)
		}
	}
	stark := deals[len(deals)-1]
	if !stark.Opportunity.IsWon || stark.Opportunity.StageName != "Closed Won" || len(stark.LineItems) != 2 {
		t.Errorf("stark = %+v with %d items", stark.Opportunity, len(stark.LineItems))
	}
	deals, err = c.ClosedWonSince(ctx, stark.Opportunity.SystemModstamp)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(deals); !slices.Equal(got, []string{starkOpp}) {
		t.Fatalf("poll from the new watermark = %v, want only %s", got, starkOpp)
	}
}

func TestTokenExpiryMidRunLogsInAgainAndContinues(t *testing.T) {
	srv, url := newOrg(t, fake.Options{PageSize: 2, SessionCalls: 3})
	c := newClient(t, srv, url)
	deals, err := c.ClosedWonSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatalf("ClosedWonSince with expiring sessions: %v", err)
	}
	if got := ids(deals); !slices.Equal(got, wonDeals) {
		t.Fatalf("deals = %v", got)
	}
	// 12 query pages (3 of Opportunities, 9 of line items) at 3 calls per session need 4 sessions.
	if n := srv.TokensIssued(); n != 4 {
		t.Errorf("tokens issued = %d, want 4", n)
	}
	unauthorized := 0
	for _, r := range srv.Requests() {
		if r.Status == 401 {
			unauthorized++
		}
	}
	if unauthorized != 3 {
		t.Errorf("401 answers = %d, want 3 (one per expiry)", unauthorized)
	}

	// Expiry on demand between calls is handled the same way.
	srv.ExpireSessions()
	if err := c.UpdateOpportunity(context.Background(), acmeOpp, map[string]any{salesforce.FieldRevhubStatus: "Active"}); err != nil {
		t.Fatalf("update after expiry: %v", err)
	}
}

func TestRequestLimitExceededBacksOffThenSucceeds(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url)
	limited, tooMany := fake.RateLimited(), fake.TooManyRequests(1)
	limited.PathContains, tooMany.PathContains = "/query", "/query"
	srv.AddFaults(limited, tooMany)
	start := time.Now()
	deals, err := c.ClosedWonSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatalf("ClosedWonSince after limits: %v", err)
	}
	if len(deals) != len(wonDeals) {
		t.Fatalf("deals = %d", len(deals))
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("waited %v, want at least the 1s Retry-After", waited)
	}
	var statuses []int
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/query") {
			statuses = append(statuses, r.Status)
		}
	}
	if !slices.Equal(statuses[:3], []int{403, 429, 200}) {
		t.Errorf("query statuses = %v, want 403, 429, 200 first", statuses)
	}
}

func TestRequestLimitExceededSurfacesAfterRetries(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url)
	srv.SetAPIUsage(100000, 100000)
	_, err := c.ClosedWonSince(context.Background(), time.Time{})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.ErrorCode != salesforce.CodeRequestLimitExceeded || !ae.Temporary() {
		t.Fatalf("err = %v, want a temporary 403 REQUEST_LIMIT_EXCEEDED APIError", err)
	}
	if used, limit := c.APIUsage(); limit != 100000 || used <= 100000 {
		t.Errorf("APIUsage = %d/%d", used, limit)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url)
	srv.AddFaults(fake.ServerError(), fake.Unavailable())
	if _, err := c.ClosedWonSince(context.Background(), time.Time{}); err != nil {
		t.Fatalf("after 500 and 503: %v", err)
	}
	srv.AddFaults(fake.Fault{Status: 500, ErrorCode: "UNKNOWN_EXCEPTION", Message: "boom", Times: 10})
	_, err := c.ClosedWonSince(context.Background(), time.Time{})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Message != "boom" {
		t.Fatalf("err = %v, want the last 500 surfaced", err)
	}
}

func TestMalformedRecordIsReportedNotFatal(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url)
	if err := srv.Corrupt("OpportunityLineItem", "00k5g00000l0002AAA", "Quantity", json.RawMessage(`"twenty-five"`)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Corrupt("Opportunity", acmeOpp, "CloseDate", json.RawMessage(`"15/12/2025"`)); err != nil {
		t.Fatal(err)
	}
	deals, err := c.ClosedWonSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatalf("ClosedWonSince: %v", err)
	}
	if len(deals) != len(wonDeals) {
		t.Fatalf("deals = %d, want %d: one bad record must not lose the others", len(deals), len(wonDeals))
	}
	var acme salesforce.Deal
	for _, d := range deals {
		if d.Opportunity.ID == acmeOpp {
			acme = d
		} else if len(d.Problems) != 0 {
			t.Errorf("%s problems = %v", d.Opportunity.ID, d.Problems)
		}
	}
	want := []salesforce.FieldProblem{
		{Field: "Opportunity[" + acmeOpp + "].CloseDate", Reason: `want a date YYYY-MM-DD, got "15/12/2025"`},
		{Field: "OpportunityLineItem[00k5g00000l0002AAA].Quantity", Reason: `want a JSON number, got the string "twenty-five"`},
	}
	if !slices.Equal(acme.Problems, want) {
		t.Errorf("problems = %#v\nwant %#v", acme.Problems, want)
	}
}

func TestUpdateOpportunityIsIdempotentAcrossALostResponse(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url, func(cfg *salesforce.Config) {
		cfg.Retry.AttemptTimeout = 200 * time.Millisecond
	})
	ctx := context.Background()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := srv.Record("Opportunity", acmeOpp)
	fields := map[string]any{
		salesforce.FieldRevhubContractID:   "ctr_sf_" + acmeOpp,
		salesforce.FieldRevhubStatus:       "Active",
		salesforce.FieldRevhubBilledToDate: decimal.RequireFromString("1675.50"),
	}
	// The first PATCH is applied but its answer is held past the client's timeout; the retry finds it done.
	srv.AddFaults(fake.Fault{Method: "PATCH", DelayMillis: 1000})
	if err := c.UpdateOpportunity(ctx, acmeOpp, fields); err != nil {
		t.Fatalf("UpdateOpportunity: %v", err)
	}
	// Sending the same write-back again (an activity retry) changes nothing but the modstamp.
	if err := c.UpdateOpportunity(ctx, acmeOpp, fields); err != nil {
		t.Fatalf("UpdateOpportunity again: %v", err)
	}
	after, _ := srv.Record("Opportunity", acmeOpp)
	if after["Revhub_Contract_Id__c"] != "ctr_sf_"+acmeOpp || after["Revhub_Status__c"] != "Active" ||
		after["Revhub_Billed_To_Date__c"] != json.Number("1675.5") {
		t.Errorf("write-back fields = %v / %v / %v", after["Revhub_Contract_Id__c"], after["Revhub_Status__c"], after["Revhub_Billed_To_Date__c"])
	}
	if after["SystemModstamp"] == before["SystemModstamp"] {
		t.Error("PATCH did not bump SystemModstamp")
	}
	patches := 0
	for _, r := range srv.Requests() {
		if r.Method == "PATCH" {
			patches++
		}
	}
	if patches != 3 {
		t.Errorf("PATCH requests = %d, want 3 (timed out, retried, repeated)", patches)
	}
}

func TestUpdateOpportunitySurfacesSalesforceErrors(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url)
	ctx := context.Background()
	err := c.UpdateOpportunity(ctx, acmeOpp, map[string]any{"SystemModstamp": "2026-01-01T00:00:00.000+0000", "IsWon": false})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.ErrorCode != "INVALID_FIELD_FOR_INSERT_UPDATE" ||
		!slices.Equal(ae.Fields, []string{"IsWon", "SystemModstamp"}) {
		t.Fatalf("read-only update err = %v", err)
	}
	err = c.UpdateOpportunity(ctx, acmeOpp, map[string]any{salesforce.FieldRevhubStatus: "Done", "Nope__c": 1})
	if !errors.As(err, &ae) || ae.ErrorCode != "INVALID_FIELD" || len(ae.More) != 1 || ae.More[0].ErrorCode != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" {
		t.Fatalf("bad fields err = %v", err)
	}
	err = c.UpdateOpportunity(ctx, "0065g00000zzzzzAAA", map[string]any{salesforce.FieldRevhubStatus: "Active"})
	if !errors.As(err, &ae) || ae.Status != 404 || ae.ErrorCode != "NOT_FOUND" {
		t.Fatalf("missing record err = %v", err)
	}
	if err := c.UpdateOpportunity(ctx, "006'; DROP", map[string]any{"x": 1}); err == nil || errors.As(err, &ae) {
		t.Fatalf("bad id err = %v, want a local error", err)
	}
	if err := c.UpdateOpportunity(ctx, acmeOpp, map[string]any{salesforce.FieldRevhubBilledToDate: 12.5}); err == nil || !strings.Contains(err.Error(), "decimal") {
		t.Fatalf("float err = %v", err)
	}
}

func TestLoginFailureNamesCodeWithoutSecret(t *testing.T) {
	srv, url := newOrg(t, fake.Options{})
	c := newClient(t, srv, url, func(cfg *salesforce.Config) { cfg.ClientSecret = "wrong-secret-value" })
	err := c.Login(context.Background())
	if !salesforce.IsCode(err, salesforce.CodeInvalidGrant) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("error leaks the secret: %v", err)
	}
	if _, err := c.ClosedWonSince(context.Background(), time.Time{}); !salesforce.IsCode(err, salesforce.CodeInvalidGrant) {
		t.Fatalf("query without a session err = %v", err)
	}
}

func TestSingleCurrencyOrg(t *testing.T) {
	srv, url := newOrg(t, fake.Options{SingleCurrency: true, OrgCurrency: "USD"})
	multi := newClient(t, srv, url)
	_, err := multi.ClosedWonSince(context.Background(), time.Time{})
	if !salesforce.IsCode(err, "INVALID_FIELD") || !strings.Contains(err.Error(), "CurrencyIsoCode") {
		t.Fatalf("multi-currency query on a single-currency org: %v", err)
	}
	single := newClient(t, srv, url, func(cfg *salesforce.Config) { cfg.MultiCurrency, cfg.OrgCurrency = false, "USD" })
	deals, err := single.ClosedWonSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if deals[0].Opportunity.CurrencyIsoCode != "USD" {
		t.Errorf("currency = %q, want the org currency", deals[0].Opportunity.CurrencyIsoCode)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	err := salesforce.Config{LoginURL: "acme", BatchSize: 50}.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, field := range []string{"login_url", "client_id", "client_secret", "batch_size", "org_currency"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

// BenchmarkClosedWonSince reads 1,000 won deals of 3 line items each from the fake org in pages of 2,000.
func BenchmarkClosedWonSince(b *testing.B) {
	srv := fake.New(fake.Options{})
	acct, err := srv.Create("Account", map[string]any{"Name": "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	prod, err := srv.Create("Product2", map[string]any{"Name": "Platform", "ProductCode": "PLATFORM", "Price_Model__c": "platform_fee"})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		opp, err := srv.Create("Opportunity", map[string]any{"Name": "Deal", "AccountId": acct, "StageName": "Closed Won", "CloseDate": "2026-01-01"})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 3; j++ {
			if _, err := srv.Create("OpportunityLineItem", map[string]any{"OpportunityId": opp, "Product2Id": prod, "Quantity": 1, "UnitPrice": 1200}); err != nil {
				b.Fatal(err)
			}
		}
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c, err := salesforce.New(salesforce.Config{LoginURL: hs.URL, ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), MultiCurrency: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		deals, err := c.ClosedWonSince(context.Background(), time.Time{})
		if err != nil || len(deals) != 1000 {
			b.Fatalf("%d deals, %v", len(deals), err)
		}
	}
}
