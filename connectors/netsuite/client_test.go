package netsuite_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/netsuite/fake"
)

func newFake(t *testing.T, opts fake.Options) (*fake.Server, *httptest.Server) {
	t.Helper()
	f := fake.New(opts)
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	return f, srv
}

func newClient(t *testing.T, base string, mod func(*netsuite.Config)) *netsuite.Client {
	t.Helper()
	cfg := netsuite.Config{AccountID: fake.DefaultAccountID, BaseURL: base, Credentials: fake.DefaultCredentials,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	c, err := netsuite.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func amt(s string) *netsuite.Amount { return netsuite.NewAmount(decimal.RequireFromString(s)) }

func entry(date, amount string) netsuite.JournalEntry {
	return netsuite.JournalEntry{Subsidiary: netsuite.RefTo("1"), Currency: netsuite.RefTo("1"), TranDate: date, Memo: "revhub",
		Line: netsuite.JournalLines{Items: []netsuite.JournalLine{
			{Account: netsuite.Ref{ID: "119"}, Debit: amt(amount), Entity: netsuite.RefTo("42")},
			{Account: netsuite.Ref{ID: "250"}, Credit: amt(amount), Department: netsuite.RefTo("5"), Class: netsuite.RefTo("3")},
		}}}
}

func count(reqs []fake.LoggedRequest, status int) int {
	n := 0
	for _, r := range reqs {
		if r.Status == status {
			n++
		}
	}
	return n
}

func TestUpsertIsIdempotent(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, nil)
	eid := netsuite.ExternalID("invoice:inv_1:finalized")
	id1, err := c.UpsertJournalEntry(ctx, eid, entry("2026-11-03", "100.50"))
	if err != nil || id1 == "" {
		t.Fatalf("upsert: %q %v", id1, err)
	}
	id2, err := c.UpsertJournalEntry(ctx, eid, entry("2026-11-03", "100.50")) // the "already done" retry
	if err != nil || id2 != id1 {
		t.Fatalf("repeat upsert: %q (first %q) %v", id2, id1, err)
	}
	if n := len(f.JournalEntries()); n != 1 {
		t.Fatalf("%d entries stored, want 1", n)
	}
	got, err := c.GetJournalEntryByExternalID(ctx, eid)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id1 || got.ExternalID != eid || len(got.Line.Items) != 2 || got.Line.Items[0].Account.ID != "119" ||
		!got.Line.Items[0].Debit.Equal(decimal.RequireFromString("100.5")) || got.PostingPeriod == nil || got.PostingPeriod.RefName != "Nov 2026" {
		t.Fatalf("read back %+v", got)
	}
	for range 2 { // deleting twice is harmless
		if err := c.DeleteJournalEntry(ctx, eid); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if n := len(f.JournalEntries()); n != 0 {
		t.Fatalf("%d entries after delete", n)
	}
	if _, err := c.GetJournalEntryByExternalID(ctx, "rh-missing"); !errors.Is(err, netsuite.ErrNotFound) {
		t.Fatalf("missing entry: %v", err)
	}
	if _, err := c.UpsertJournalEntry(ctx, "invoice:inv_1", entry("2026-11-03", "1")); !errors.Is(err, netsuite.ErrInvalidExternalID) {
		t.Fatalf("raw ledger key as external id: %v", err)
	}
}

func TestTimeoutThenRetryPostsOnce(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, func(cfg *netsuite.Config) { cfg.AttemptTimeout = 100 * time.Millisecond })
	// NetSuite stores the entry, but the answer arrives after the client gave up.
	f.InjectFault(fake.Fault{Delay: 300 * time.Millisecond, PathContains: "/journalEntry"})
	if _, err := c.UpsertJournalEntry(ctx, "rh-timeout", entry("2026-11-03", "5")); err != nil {
		t.Fatalf("upsert with a lost answer: %v", err)
	}
	if n := len(f.JournalEntries()); n != 1 {
		t.Fatalf("%d entries after timeout and retry, want 1", n)
	}
}

func TestCreateAndDuplicateExternalID(t *testing.T) {
	ctx := context.Background()
	_, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, nil)
	je := entry("2026-11-03", "10")
	je.ExternalID = "rh-created"
	id, err := c.CreateJournalEntry(ctx, je)
	if err != nil || id == "" {
		t.Fatalf("create: %q %v", id, err)
	}
	_, err = c.CreateJournalEntry(ctx, je)
	var ae *netsuite.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !ae.HasCode("USER_ERROR") || ae.Details[0].ErrorPath != "externalId" {
		t.Fatalf("duplicate create: %v", err)
	}
}

func TestValidationErrorsSurface(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, nil)
	if err := f.ClosePeriod("2026-10"); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpsertJournalEntry(ctx, "rh-late", entry("2026-10-15", "10"))
	var ae *netsuite.APIError
	if !errors.As(err, &ae) || netsuite.ErrorCode(err) != "USER_ERROR" || ae.Details[0].ErrorPath != "postingPeriod" {
		t.Fatalf("closed period: %v", err)
	}
	bad := entry("2026-11-15", "10")
	bad.Line.Items[1].Credit = amt("9.99")
	_, err = c.UpsertJournalEntry(ctx, "rh-unbalanced", bad)
	if netsuite.ErrorCode(err) != "USER_ERROR" || !errors.As(err, &ae) || ae.Details[0].ErrorPath != "line" {
		t.Fatalf("unbalanced: %v", err)
	}
	noSub := entry("2026-11-15", "10")
	noSub.Subsidiary = nil
	if _, err = c.UpsertJournalEntry(ctx, "rh-nosub", noSub); netsuite.ErrorCode(err) != "USER_ERROR" {
		t.Fatalf("no subsidiary: %v", err)
	}
	reqs := f.Requests()
	if len(reqs) != 3 || count(reqs, 400) != 3 {
		t.Fatalf("400s must not be retried: %+v", reqs)
	}
	if len(f.JournalEntries()) != 0 {
		t.Fatal("a refused entry was stored")
	}
}

func TestBadSignatureIsRefusedAndNotRetried(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, fake.Options{})
	for name, mod := range map[string]func(*netsuite.Config){
		"token secret": func(cfg *netsuite.Config) { cfg.TokenSecret = "stolen" },
		"realm":        func(cfg *netsuite.Config) { cfg.AccountID = "7654321" },
		"consumer key": func(cfg *netsuite.Config) { cfg.ConsumerKey = "other" },
		"clock skew":   func(cfg *netsuite.Config) { cfg.Now = func() time.Time { return time.Now().Add(-time.Hour) } },
	} {
		c := newClient(t, srv.URL, mod)
		_, err := c.UpsertJournalEntry(ctx, "rh-x", entry("2026-11-03", "1"))
		var ae *netsuite.APIError
		if !errors.As(err, &ae) || ae.Status != 401 || !ae.HasCode("INVALID_LOGIN") {
			t.Errorf("%s: want 401 INVALID_LOGIN, got %v", name, err)
		}
		if msg := fmt.Sprint(err); containsAny(msg, "stolen", fake.DefaultCredentials.TokenSecret, fake.DefaultCredentials.ConsumerSecret) {
			t.Errorf("%s: error leaks a secret: %s", name, msg)
		}
	}
	if reqs := f.Requests(); len(reqs) != 4 || count(reqs, 401) != 4 {
		t.Fatalf("401s must not be retried: %d requests", len(reqs))
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func TestNonceReplayIsRefused(t *testing.T) {
	_, srv := newFake(t, fake.Options{})
	u, _ := url.Parse(srv.URL + "/services/rest/record/v1/journalEntry/eid:rh-none")
	h, err := netsuite.AuthorizationHeader("GET", u, "1234567_SB1", fake.DefaultCredentials, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	send := func() int {
		req, _ := http.NewRequest("GET", u.String(), nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send(); s != 404 { // authenticated; the record just does not exist
		t.Fatalf("first use of the nonce: %d", s)
	}
	if s := send(); s != 401 {
		t.Fatalf("replayed nonce: %d, want 401", s)
	}
}

func TestTooManyRequestsStormLosesNothing(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, func(cfg *netsuite.Config) { cfg.RetryMax = 40 })
	f.InjectFault(fake.Fault{Status: 429, Count: 60, RetryAfter: "0"})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			if _, err := c.UpsertJournalEntry(ctx, fmt.Sprintf("rh-storm-%d", i), entry("2026-11-03", "1")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := f.Requests()
	if got := count(reqs, 429); got != 60 {
		t.Fatalf("%d requests answered 429, want the whole storm of 60", got)
	}
	if n := len(f.JournalEntries()); n != 20 {
		t.Fatalf("%d entries stored after the storm, want 20", n)
	}
}

func TestRetriesRunOutSurfaceTheLast429(t *testing.T) {
	f, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, func(cfg *netsuite.Config) { cfg.RetryMax = 2 })
	f.InjectFault(fake.Fault{Status: 429, Count: 10})
	_, err := c.UpsertJournalEntry(context.Background(), "rh-x", entry("2026-11-03", "1"))
	var ae *netsuite.APIError
	if !errors.As(err, &ae) || ae.Status != 429 {
		t.Fatalf("want the 429 after retries ran out, got %v", err)
	}
	if n := len(f.Requests()); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestClientConcurrencyCap(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, clientCap int) *fake.Server {
		f, srv := newFake(t, fake.Options{ConcurrencyLimit: 3, Latency: 20 * time.Millisecond})
		c := newClient(t, srv.URL, func(cfg *netsuite.Config) { cfg.MaxConcurrency = clientCap; cfg.RetryMax = 100 })
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				if _, err := c.UpsertJournalEntry(ctx, fmt.Sprintf("rh-c-%d", i), entry("2026-11-03", "1")); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := len(f.JournalEntries()); n != 12 {
			t.Fatalf("%d entries, want 12", n)
		}
		return f
	}
	t.Run("cap below the account limit never sees 429", func(t *testing.T) {
		f := run(t, 3)
		if got := count(f.Requests(), 429); got != 0 || f.MaxInFlight() > 3 {
			t.Fatalf("429s %d, max in flight %d", got, f.MaxInFlight())
		}
	})
	t.Run("cap above the limit is refused with 429 and recovers", func(t *testing.T) {
		f := run(t, 12)
		if got := count(f.Requests(), 429); got == 0 {
			t.Fatal("the fake never enforced its limit")
		}
	})
}

func TestSuiteQLPagingAndReconciliationQueries(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, fake.Options{})
	c := newClient(t, srv.URL, func(cfg *netsuite.Config) { cfg.PageSize = 10 })
	for i := range 25 {
		je := entry("2026-11-03", fmt.Sprintf("%d.25", i+1))
		if _, err := c.UpsertJournalEntry(ctx, fmt.Sprintf("rh-p-%02d", i), je); err != nil {
			t.Fatal(err)
		}
	}
	f.SeedJournalEntry(netsuite.JournalEntry{ExternalID: "manual-1", Subsidiary: netsuite.RefTo("1"), TranDate: "2026-11-04",
		Line: netsuite.JournalLines{Items: []netsuite.JournalLine{{Account: netsuite.Ref{ID: "119"}, Debit: amt("7")}, {Account: netsuite.Ref{ID: "250"}, Credit: amt("7")}}}})
	q := `SELECT id, externalid FROM transaction WHERE recordtype = 'journalentry' AND externalid LIKE 'rh-p-%' ORDER BY externalid DESC`
	p, err := c.SuiteQL(ctx, q, 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != 5 || p.HasMore || p.TotalResults != 25 || p.Offset != 20 || p.Items[0]["externalid"] != "rh-p-04" {
		t.Fatalf("last page: %+v", p)
	}
	all, err := c.SuiteQLAll(ctx, q)
	if err != nil || len(all) != 25 || all[0]["externalid"] != "rh-p-24" || all[24]["externalid"] != "rh-p-00" {
		t.Fatalf("all pages: %d %v", len(all), err)
	}
	periods, err := c.AccountingPeriods(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var nov string
	for _, p := range periods {
		if p.Month == "2026-11" {
			nov = p.ID
		}
	}
	if want, _ := f.PeriodID("2026-11"); nov == "" || nov != want {
		t.Fatalf("November's period id %q, fake says %q", nov, want)
	}
	totals, err := c.PeriodTotals(ctx, nov)
	if err != nil {
		t.Fatal(err)
	}
	// sum of (i+1).25 for i in 0..24 = 325 + 6.25; the manual entry is not revhub's.
	if len(totals) != 2 || totals[0].Account != "119" || !totals[0].Debit.Equal(decimal.RequireFromString("331.25")) ||
		!totals[0].Credit.IsZero() || totals[0].Lines != 25 || totals[1].Account != "250" || !totals[1].Credit.Equal(decimal.RequireFromString("331.25")) {
		t.Fatalf("period totals: %+v", totals)
	}
	perEntry, err := c.EntryTotals(ctx, nov)
	if err != nil || len(perEntry) != 50 || perEntry[0].ExternalID != "rh-p-00" || !perEntry[0].Debit.Equal(decimal.RequireFromString("1.25")) {
		t.Fatalf("entry totals: %d %+v %v", len(perEntry), perEntry[:1], err)
	}
	if _, err := c.PeriodTotals(ctx, "1' OR 1=1"); err == nil {
		t.Fatal("a non-numeric period id reached the query")
	}
	_, err = c.SuiteQL(ctx, "SELECT nosuchcolumn FROM transaction", 10, 0)
	if netsuite.ErrorCode(err) != "INVALID_PARAMETER" {
		t.Fatalf("bad query: %v", err)
	}
}
