package workflows

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/connectors/netsuite/fake"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/internal/temporaltest"
	"github.com/revhub/revhub/mappings"
)

const erpTestMapping = `
mode: one_to_one
accounts: {"1000": "110", "1100": "119", "1150": "120", "1210": "131", "1220": "132", "1230": "133", "2400": "250",
  "4000": "400", "4010": "401", "4020": "402", "4030": "403", "4080": "408", "4900": "490", "4950": "495", "6100": "610"}
subsidiaries: {us: "1", eu: "2"}
currencies: {USD: "1", EUR: "4"}
departments: {platform: "5", usage: "6", "*": "9"}
`

// erpStack is a real PostgreSQL database, a real Temporal server, a fake NetSuite account served
// over HTTP, and the ERP activities' dependencies; workers are started per test.
type erpStack struct {
	deps  activities.Deps
	fake  *fake.Server
	tc    client.Client
	queue string
	keys  []string // the ledger entries posted, in order
}

func newERPStack(t *testing.T, latency time.Duration) *erpStack {
	t.Helper()
	d := dbtest.New(t)
	chart := ledger.DefaultChart()
	if err := ledger.SyncChart(context.Background(), d.Pool, chart); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	f := fake.New(fake.Options{Latency: latency, Logger: quiet})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	ns, err := netsuite.New(netsuite.Config{AccountID: fake.DefaultAccountID, BaseURL: srv.URL, Credentials: fake.DefaultCredentials,
		RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := mappings.ParseNetSuiteConfig([]byte(erpTestMapping))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(chart); err != nil {
		t.Fatal(err)
	}
	return &erpStack{
		deps: activities.Deps{Pool: d.Pool, Chart: chart, NetSuite: ns, NetSuiteMapping: cfg, Log: quiet},
		fake: f, tc: temporaltest.Client(t), queue: temporaltest.TaskQueue(t),
	}
}

// postEntries posts n finalized invoices for entity "us", alternating October and November 2026.
func (s *erpStack) postEntries(t *testing.T, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		month := time.November
		if i%2 == 0 {
			month = time.October
		}
		e, err := ledger.InvoiceFinalized(s.deps.Chart, ledger.Invoice{ID: fmt.Sprintf("inv_%03d", i),
			Party: ledger.Party{Entity: "us", Customer: "cus_1", Contract: "con_1"}, Date: ledger.Date(2026, month, 1+i%28), Currency: "USD",
			Lines: []ledger.InvoiceLine{
				{Product: "platform", Amount: decimal.NewFromInt(1000 + int64(i)), Treatment: ledger.BilledInAdvance},
				{Product: "usage", Amount: decimal.RequireFromString("0.99"), Treatment: ledger.RecognizedAsBill}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.Post(context.Background(), s.deps.Pool, s.deps.Chart, e); err != nil {
			t.Fatal(err)
		}
		s.keys = append(s.keys, e.Key)
	}
}

// startWorker runs a worker with the sync workflow and the ERP activities until stopped.
func (s *erpStack) startWorker(t *testing.T) worker.Worker {
	t.Helper()
	w := worker.New(s.tc, s.queue, worker.Options{})
	w.RegisterWorkflow(ERPSync)
	w.RegisterActivity(activities.New(s.deps).ERP)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(w.Stop) })
	return w
}

func (s *erpStack) start(t *testing.T, id string, in ERPSyncInput) client.WorkflowRun {
	t.Helper()
	run, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id + "/" + s.queue, TaskQueue: s.queue}, ERPSync, in)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func wait(t *testing.T, run client.WorkflowRun) ERPSyncState {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var st ERPSyncState
	if err := run.Get(ctx, &st); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return st
}

// assertEachOnce checks that NetSuite holds every posted entry exactly once and nothing else,
// and that the ledger recorded every entry as posted.
func (s *erpStack) assertEachOnce(t *testing.T) {
	t.Helper()
	count := map[string]int{}
	for _, je := range s.fake.JournalEntries() {
		count[je.ExternalID]++
	}
	if len(count) != len(s.keys) {
		t.Errorf("NetSuite holds %d distinct journals, want %d", len(count), len(s.keys))
	}
	for _, k := range s.keys {
		if n := count[netsuite.ExternalID(k)]; n != 1 {
			t.Errorf("%s is in NetSuite %d times", k, n)
		}
	}
	ps, err := ledger.ERPPostings(context.Background(), s.deps.Pool, activities.ERPSystem, ledger.BalanceQuery{Entity: "us"})
	if err != nil || len(ps) != len(s.keys) {
		t.Errorf("posting records: %d (%v), want %d", len(ps), err, len(s.keys))
	}
}

func assertGreen(t *testing.T, st ERPSyncState, periods ...string) {
	t.Helper()
	if len(st.Reconciled) != len(periods) {
		t.Fatalf("reconciled %+v, want %v", st.Reconciled, periods)
	}
	for i, p := range periods {
		if r := st.Reconciled[i]; r.Period != p || r.Status != recon.StatusGreen {
			t.Errorf("period %s: %+v", p, r)
		}
	}
}

func (s *erpStack) upserts() int {
	n := 0
	for _, r := range s.fake.Requests() {
		if r.Method == "PUT" {
			n++
		}
	}
	return n
}

// TestERPSyncWorkerKilledMidSync stops the only worker while batches are being posted, then starts
// another: every entry reaches NetSuite exactly once and both periods reconcile green.
func TestERPSyncWorkerKilledMidSync(t *testing.T) {
	s := newERPStack(t, 25*time.Millisecond)
	s.postEntries(t, 60)
	w1 := s.startWorker(t)
	run := s.start(t, "erp-sync-kill", ERPSyncInput{Entity: "us", BatchSize: 10})

	deadline := time.Now().Add(time.Minute)
	for s.upserts() < 15 {
		if time.Now().After(deadline) {
			t.Fatal("the sync never started posting")
		}
		time.Sleep(2 * time.Millisecond)
	}
	w1.Stop()
	atKill := s.upserts()
	if atKill >= len(s.keys) {
		t.Fatalf("the worker was stopped after every entry was posted (%d upserts); the test proves nothing", atKill)
	}
	s.startWorker(t)
	st := wait(t, run)
	s.assertEachOnce(t)
	assertGreen(t, st, "2026-10", "2026-11")
	t.Logf("worker stopped after %d upserts; %d upserts in all for %d entries", atKill, s.upserts(), len(s.keys))
}

// TestERPSyncThrough429Storm: NetSuite answers 429 to more requests than the client retries, so
// activities fail and are retried by Temporal: slower, but nothing is lost or doubled.
func TestERPSyncThrough429Storm(t *testing.T) {
	s := newERPStack(t, 0)
	s.postEntries(t, 20)
	s.fake.InjectFault(fake.Fault{Status: 429, Count: 80, RetryAfter: "0"})
	s.startWorker(t)
	st := wait(t, s.start(t, "erp-sync-429", ERPSyncInput{Entity: "us", BatchSize: 8}))
	s.assertEachOnce(t)
	assertGreen(t, st, "2026-10", "2026-11")
	limited := 0
	for _, r := range s.fake.Requests() {
		if r.Status == 429 {
			limited++
		}
	}
	if limited != 80 {
		t.Fatalf("the fake answered %d requests with 429, want the whole storm of 80", limited)
	}
}

// TestERPSyncReconciliationRedNamesTheEntry: after a green sync, someone edits a journal line in
// NetSuite; the next sync (nothing to post, the period asked for) is red and names the entry.
func TestERPSyncReconciliationRedNamesTheEntry(t *testing.T) {
	s := newERPStack(t, 0)
	s.postEntries(t, 6)
	s.startWorker(t)
	st := wait(t, s.start(t, "erp-sync-green", ERPSyncInput{Entity: "us"}))
	assertGreen(t, st, "2026-10", "2026-11")

	altered := s.keys[2] // inv_003, November
	if err := s.fake.AlterLine(netsuite.ExternalID(altered), 1, func(l *netsuite.JournalLine) error {
		l.Credit = netsuite.NewAmount(l.Credit.Decimal.Add(decimal.RequireFromString("0.01")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st = wait(t, s.start(t, "erp-sync-red", ERPSyncInput{Entity: "us", Reconcile: []string{"2026-11"}}))
	if st.Posted != 0 || len(st.Reconciled) != 1 || st.Reconciled[0].Status != recon.StatusBlocked || !st.Blocked() {
		t.Fatalf("state %+v", st)
	}
	if !strings.Contains(strings.Join(st.Reconciled[0].Exceptions, "\n"), altered) {
		t.Fatalf("exceptions do not name %s: %q", altered, st.Reconciled[0].Exceptions)
	}
	res, err := recon.LatestCheck(context.Background(), s.deps.Pool, activities.ERPReconcileRun("us", "2026-11"), recon.CheckLedgerVsERP)
	if err != nil || res.Status != recon.StatusBlocked || res.Attempt != 2 {
		t.Fatalf("stored result: %+v %v", res, err)
	}
	named := false
	for _, d := range res.Check.Differences {
		named = named || strings.HasPrefix(d.Key, altered)
	}
	if !named {
		t.Fatalf("no stored difference keyed by %s: %+v", altered, res.Check.Differences)
	}
}

// TestEnsureERPSchedule creates the hourly schedule idempotently, updates its interval, and a
// triggered run of it posts the ledger.
func TestEnsureERPSchedule(t *testing.T) {
	s := newERPStack(t, 0)
	s.postEntries(t, 3)
	ctx := context.Background()
	entity := "us"
	h := s.tc.ScheduleClient().GetHandle(ctx, ERPScheduleID(entity))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	for range 2 { // the second call is the "already done" retry
		if err := EnsureERPSchedule(ctx, s.tc, entity, s.queue, 0); err != nil {
			t.Fatal(err)
		}
	}
	every := func() time.Duration {
		d, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d.Schedule.Spec.Intervals[0].Every
	}
	if got := every(); got != time.Hour {
		t.Fatalf("interval %s, want 1h", got)
	}
	if err := EnsureERPSchedule(ctx, s.tc, entity, s.queue, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := every(); got != 30*time.Minute {
		t.Fatalf("interval after update %s, want 30m", got)
	}

	s.startWorker(t)
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	// Wait until the ledger records every entry as posted (after NetSuite holds them).
	deadline := time.Now().Add(time.Minute)
	for {
		ps, err := ledger.ERPPostings(ctx, s.deps.Pool, activities.ERPSystem, ledger.BalanceQuery{Entity: entity})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == len(s.keys) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled sync recorded %d of %d entries as posted", len(ps), len(s.keys))
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.assertEachOnce(t)
}
