package activities_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/salesforce"
	sffake "github.com/revhub/revhub/connectors/salesforce/fake"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/internal/notice"
	"github.com/revhub/revhub/internal/recon"
)

const (
	acmeOpp   = "0065g00000acme1AAA"
	brokenOpp = "0065g00000broknAAA"
	starkOpp  = "0065g00000starkAAA"
	acmeSeats = "00k5g00000l0002AAA"
)

// intakeEnv is a migrated database, the demo Salesforce org on a settable clock and the intake activities.
type intakeEnv struct {
	in    *activities.Intake
	fake  *sffake.Server
	deps  activities.Deps
	mu    sync.Mutex
	clock time.Time
}

func (e *intakeEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *intakeEnv) set(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock = t
}

func newIntakeEnv(t *testing.T) *intakeEnv {
	t.Helper()
	e := &intakeEnv{clock: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)}
	f, err := sffake.NewDemo(sffake.Options{Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	sf, err := salesforce.New(salesforce.Config{LoginURL: srv.URL, ClientID: f.ClientID(), ClientSecret: f.ClientSecret(), MultiCurrency: true,
		Logger: slog.New(slog.DiscardHandler), Retry: salesforce.RetryOptions{WaitMin: time.Millisecond, WaitMax: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.fake = f
	e.deps = activities.Deps{Pool: dbtest.New(t).Pool, Log: slog.New(slog.DiscardHandler), Salesforce: sf, Now: e.now}
	e.in = activities.New(e.deps).Intake
	return e
}

func (e *intakeEnv) patches(opp string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == "PATCH" && strings.HasSuffix(r.Path, "/sobjects/Opportunity/"+opp) && r.Status == 204 {
			n++
		}
	}
	return n
}

func TestIngestDealActivatesOnceAndWritesBackOnce(t *testing.T) {
	ctx := context.Background()
	e := newIntakeEnv(t)
	first, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp})
	if err != nil {
		t.Fatal(err)
	}
	if first.Outcome != activities.IngestCreated || first.ContractID != "ctr_sf_"+acmeOpp || first.Version != 1 {
		t.Fatalf("first ingest = %+v", first)
	}
	// The retry of a completed ingest (a lost activity result) changes nothing.
	again, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp})
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != activities.IngestUnchanged || again.Version != 1 {
		t.Fatalf("retried ingest = %+v", again)
	}
	c, err := contract.Get(ctx, e.deps.Pool, first.ContractID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Versions) != 1 || c.Versions[0].Status != contract.StatusActive {
		t.Fatalf("contract versions = %+v", c.Versions)
	}

	wb, err := e.in.WriteBack(ctx, activities.DealWriteBackInput{ContractID: first.ContractID})
	if err != nil {
		t.Fatal(err)
	}
	if !wb.Written || wb.Status != "Active" || !wb.BilledToDate.IsZero() {
		t.Fatalf("write-back = %+v", wb)
	}
	rec, _ := e.fake.Record("Opportunity", acmeOpp)
	if rec[salesforce.FieldRevhubContractID] != first.ContractID || rec[salesforce.FieldRevhubStatus] != "Active" {
		t.Fatalf("Opportunity after write-back: %v %v", rec[salesforce.FieldRevhubContractID], rec[salesforce.FieldRevhubStatus])
	}
	// Already done: the Opportunity shows the values, so nothing is sent again.
	wb2, err := e.in.WriteBack(ctx, activities.DealWriteBackInput{ContractID: first.ContractID})
	if err != nil {
		t.Fatal(err)
	}
	if wb2.Written || e.patches(acmeOpp) != 1 {
		t.Fatalf("second write-back written=%v, PATCHes %d, want one", wb2.Written, e.patches(acmeOpp))
	}
	// The write-back bumped SystemModstamp; ingesting the deal again still finds the same terms.
	if out, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp}); err != nil || out.Outcome != activities.IngestUnchanged {
		t.Fatalf("ingest after write-back: %+v %v", out, err)
	}
}

func TestIngestDealAmendsAfterAnEdit(t *testing.T) {
	ctx := context.Background()
	e := newIntakeEnv(t)
	if _, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp}); err != nil {
		t.Fatal(err)
	}
	e.set(time.Date(2026, 7, 20, 16, 30, 0, 0, time.UTC))
	if err := e.fake.Update("OpportunityLineItem", acmeSeats, map[string]any{"Quantity": 30}); err != nil {
		t.Fatal(err)
	}
	out, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp})
	if err != nil {
		t.Fatal(err)
	}
	if out.Outcome != activities.IngestAmended || out.Version != 2 || out.EffectiveFrom != "2026-07-20" {
		t.Fatalf("amendment = %+v", out)
	}
	again, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp})
	if err != nil || again.Outcome != activities.IngestUnchanged || again.Version != 2 {
		t.Fatalf("retried amendment: %+v %v", again, err)
	}
	c, err := contract.Get(ctx, e.deps.Pool, out.ContractID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Versions) != 2 {
		t.Fatalf("versions = %d, want 2", len(c.Versions))
	}
	v1, v2 := c.Versions[0], c.Versions[1]
	seats := func(v contract.Version) int64 {
		comp, _ := v.Component("seats")
		return comp.Price.Seats
	}
	if seats(v1) != 25 || seats(v2) != 30 || v2.EffectiveFrom.String() != "2026-07-20" || v2.Status != contract.StatusActive {
		t.Fatalf("v1 seats %d, v2 seats %d from %s (%s)", seats(v1), seats(v2), v2.EffectiveFrom, v2.Status)
	}
}

func TestIngestDealRejectsUnmappableDeal(t *testing.T) {
	ctx := context.Background()
	e := newIntakeEnv(t)
	for attempt := 1; attempt <= 2; attempt++ {
		_, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: brokenOpp})
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || ae.Type() != activities.ErrUnmappableDeal || !ae.NonRetryable() {
			t.Fatalf("attempt %d: error %v, want a non-retryable UnmappableDeal", attempt, err)
		}
		if !strings.Contains(ae.Error(), "Price_Model__c") {
			t.Errorf("the error does not name the field: %v", ae)
		}
	}
	rej, err := intake.LatestRejections(ctx, e.deps.Pool, intake.SourceSalesforce, []string{brokenOpp})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := rej[brokenOpp]; !ok || r.Kind != intake.KindUnmappableDeal || len(r.Problems) != 2 {
		t.Fatalf("rejection = %+v", rej)
	}
	var rows int
	if err := e.deps.Pool.QueryRow(ctx, `SELECT count(*) FROM crm_rejections`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("rejection rows = %d (%v), want 1", rows, err)
	}
	if ns, _ := notice.Open(ctx, e.deps.Pool, activities.NoticeUnmappableDeal, 10); len(ns) != 1 {
		t.Fatalf("notices = %+v", ns)
	}
	rec, _ := e.fake.Record("Opportunity", brokenOpp)
	if rec[salesforce.FieldRevhubStatus] != "Rejected" || e.patches(brokenOpp) != 1 {
		t.Fatalf("Opportunity status %v after %d PATCHes, want Rejected after one", rec[salesforce.FieldRevhubStatus], e.patches(brokenOpp))
	}
	if _, err := contract.Get(ctx, e.deps.Pool, "ctr_sf_"+brokenOpp); !errors.Is(err, contract.ErrNotFound) {
		t.Fatalf("a contract exists for the broken deal: %v", err)
	}
}

func TestIngestDealNotWonAndBadInput(t *testing.T) {
	ctx := context.Background()
	e := newIntakeEnv(t)
	out, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: starkOpp})
	if err != nil || out.Outcome != activities.IngestNotWon {
		t.Fatalf("open deal: %+v %v", out, err)
	}
	_, err = e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: "001000000000001AAA"})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != activities.ErrInvalidInput || !strings.Contains(err.Error(), "opportunity_id") {
		t.Fatalf("an Account id: %v", err)
	}
	_, err = e.in.WriteBack(ctx, activities.DealWriteBackInput{ContractID: "ctr_manual_1"})
	if !errors.As(err, &ae) || ae.Type() != activities.ErrInvalidInput || !strings.Contains(err.Error(), "contract_id") {
		t.Fatalf("a non-Salesforce contract: %v", err)
	}
	unconfigured := activities.New(activities.Deps{Pool: e.deps.Pool}).Intake
	if _, err := unconfigured.PollDeals(ctx, activities.PollDealsInput{}); err == nil || errors.As(err, &ae) {
		t.Fatalf("no Salesforce client: %v, want a retryable error", err)
	}
}

func TestPollDealsAndReconcileCRM(t *testing.T) {
	ctx := context.Background()
	e := newIntakeEnv(t)
	polled, err := e.in.PollDeals(ctx, activities.PollDealsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(polled.Deals) != 6 || !polled.NextWatermark.Equal(polled.Deals[5].SystemModstamp) || polled.NextWatermark.Before(polled.Deals[0].SystemModstamp) {
		t.Fatalf("poll = %+v", polled)
	}
	// Before any ingest every won deal is unaccounted for.
	day := activities.CRMReconcileInput{Day: "2026-06-15"}
	r0, err := e.in.ReconcileCRM(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if r0.Status != string(recon.StatusBlocked) || r0.Summary.Missing != 6 {
		t.Fatalf("before ingest: %+v", r0)
	}
	for _, d := range polled.Deals {
		if _, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: d.OpportunityID}); err != nil {
			var ae *temporal.ApplicationError
			if !errors.As(err, &ae) || ae.Type() != activities.ErrUnmappableDeal {
				t.Fatal(err)
			}
		}
	}
	r1, err := e.in.ReconcileCRM(ctx, day)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Attempt != 2 || r1.Summary.Matched != 5 || r1.Summary.Rejected != 1 || r1.Summary.Missing != 0 || r1.Differences != 1 {
		t.Fatalf("after ingest: %+v", r1)
	}
	// Already done: the same state is the same attempt.
	r2, err := e.in.ReconcileCRM(ctx, day)
	if err != nil || r2.Attempt != 2 {
		t.Fatalf("retry: %+v %v", r2, err)
	}
	res, err := recon.LatestCheck(ctx, e.deps.Pool, r1.Run, recon.CheckCRMVsContracts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Check.Differences) != 1 || res.Check.Differences[0].Key != brokenOpp || !strings.Contains(res.Check.Differences[0].Reason, "rejected") {
		t.Fatalf("stored differences = %+v", res.Check.Differences)
	}
	// A seat edit amends the contract; the latest version's value follows the CRM again.
	e.set(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC))
	if err := e.fake.Update("OpportunityLineItem", acmeSeats, map[string]any{"Quantity": 30}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.in.IngestDeal(ctx, activities.IngestDealInput{OpportunityID: acmeOpp}); err != nil || out.Outcome != activities.IngestAmended {
		t.Fatalf("amend: %+v %v", out, err)
	}
	r3, err := e.in.ReconcileCRM(ctx, day)
	if err != nil || r3.Summary.Matched != 5 || r3.Summary.Mismatched != 0 {
		t.Fatalf("after the amendment: %+v %v", r3, err)
	}
}
