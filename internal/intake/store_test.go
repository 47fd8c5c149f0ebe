package intake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/recon"
)

func TestRejectionsRecordedOncePerState(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	r := intake.Rejection{Source: intake.SourceSalesforce, OpportunityID: "0065g00000broknAAA", SystemModstamp: at, Kind: intake.KindUnmappableDeal,
		Problems: []intake.Problem{{Field: "Opportunity.Billing_Entity__c", Reason: "required"}, {Field: "Product2[x].Price_Model__c", Reason: "unknown"}}}
	for i, want := range []bool{true, false} {
		created, err := intake.RecordRejection(ctx, db.Pool, r)
		if err != nil {
			t.Fatal(err)
		}
		if created != want {
			t.Fatalf("attempt %d: created = %v, want %v (the same state is recorded once)", i+1, created, want)
		}
	}
	later := r
	later.SystemModstamp = at.Add(time.Hour)
	later.Problems = later.Problems[1:]
	if created, err := intake.RecordRejection(ctx, db.Pool, later); err != nil || !created {
		t.Fatalf("an edited, still broken deal: created=%v err=%v", created, err)
	}
	got, err := intake.LatestRejections(ctx, db.Pool, intake.SourceSalesforce, []string{r.OpportunityID, "0065g00000acme1AAA"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[r.OpportunityID].SystemModstamp.Equal(later.SystemModstamp) || len(got[r.OpportunityID].Problems) != 1 {
		t.Fatalf("latest = %+v", got)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE crm_rejections SET reason = 'x'`); err == nil {
		t.Error("a rejection was changed")
	}
	bad := intake.Rejection{Source: "hubspot"}
	_, err = intake.RecordRejection(ctx, db.Pool, bad)
	for _, field := range []string{"source", "opportunity_id", "system_modstamp", "kind", "problems"} {
		if err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("invalid rejection: error %v does not name %s", err, field)
		}
	}
}

func TestReplayStoreAcrossInstances(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a, b := intake.NewReplayStore(db.Pool, clock), intake.NewReplayStore(db.Pool, clock)
	if first, err := a.FirstSeen(ctx, "sig-1", now.Add(5*time.Minute)); err != nil || !first {
		t.Fatalf("first sight: %v %v", first, err)
	}
	if first, err := b.FirstSeen(ctx, "sig-1", now.Add(5*time.Minute)); err != nil || first {
		t.Fatalf("replay on another instance: first=%v err=%v", first, err)
	}
	now = now.Add(6 * time.Minute)
	if first, err := b.FirstSeen(ctx, "sig-1", now.Add(5*time.Minute)); err != nil || !first {
		t.Fatalf("after expiry: first=%v err=%v", first, err)
	}
}

func TestContractBillingWithoutInvoices(t *testing.T) {
	db := dbtest.New(t)
	b, err := intake.ContractBilling(context.Background(), db.Pool, "ctr_sf_none")
	if err != nil {
		t.Fatal(err)
	}
	if !b.BilledToDate.IsZero() || !b.InvoicedThrough.IsZero() || b.Issued != 0 {
		t.Fatalf("billing = %+v", b)
	}
}

func TestSaveCRMCheckIsIdempotentAndVersioned(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	deals := []intake.DealValue{{OpportunityID: "0065g00000acme1AAA", Currency: "USD", LineTotal: decimal.NewFromInt(100)}}
	contracts := map[string]intake.ContractValue{"0065g00000acme1AAA": {ContractID: "ctr_sf_0065g00000acme1AAA", Currency: money.Currency("USD"), TCV: decimal.NewFromInt(100)}}
	check, _, err := intake.CRMCheck("intake/salesforce/2026-11-24", deals, contracts, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := intake.SaveCRMCheck(ctx, db.Pool, check, recon.Tolerance{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := intake.SaveCRMCheck(ctx, db.Pool, check, recon.Tolerance{})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Attempt != 1 || first.Status != recon.StatusGreen {
		t.Fatalf("same check saved twice: first %d#%d, again %d#%d (%s)", first.ID, first.Attempt, again.ID, again.Attempt, first.Status)
	}
	contracts["0065g00000acme1AAA"] = intake.ContractValue{ContractID: "ctr_sf_0065g00000acme1AAA", Currency: money.Currency("USD"), TCV: decimal.NewFromInt(90)}
	changed, _, err := intake.CRMCheck("intake/salesforce/2026-11-24", deals, contracts, nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := intake.SaveCRMCheck(ctx, db.Pool, changed, recon.Tolerance{})
	if err != nil {
		t.Fatal(err)
	}
	if next.Attempt != 2 || next.Status != recon.StatusBlocked {
		t.Fatalf("a changed check: attempt %d status %s, want 2 blocked", next.Attempt, next.Status)
	}
	stored, err := recon.LatestCheck(ctx, db.Pool, "intake/salesforce/2026-11-24", recon.CheckCRMVsContracts)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Check.Differences) != 1 || !strings.Contains(stored.Check.Differences[0].Reason, "total contract value is 90") {
		t.Fatalf("stored differences = %+v", stored.Check.Differences)
	}
}
