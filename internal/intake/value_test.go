package intake_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/connectors/salesforce/fake"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/mappings"
)

// TestTotalContractValueOfDemoDeals maps every won demo deal and checks the contract's total contract value
// equals the sum of the deal's line items, as the CRM reconciliation expects.
func TestTotalContractValueOfDemoDeals(t *testing.T) {
	srv, err := fake.NewDemo(fake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c, err := salesforce.New(salesforce.Config{LoginURL: hs.URL, ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), MultiCurrency: true})
	if err != nil {
		t.Fatal(err)
	}
	deals, err := c.ClosedWonSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mapped := 0
	for _, d := range deals {
		v, err := mappings.SalesforceDeal(d)
		var ue *mappings.UnmappableDealError
		if errors.As(err, &ue) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		mapped++
		tcv, err := intake.TotalContractValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := intake.LineTotal(d); !tcv.Equal(want) {
			t.Errorf("%s: TCV %s, line items %s", d.Opportunity.ID, tcv, want)
		}
	}
	if mapped != 5 {
		t.Fatalf("mapped %d demo deals, want 5", mapped)
	}
}

func TestTotalContractValueRules(t *testing.T) {
	d := contract.MustDate
	base := contract.Version{
		ContractID: "c1", Version: 1, Currency: "USD", Start: d("2026-01-01"), End: d("2026-07-01"),
		Billing: contract.Billing{Cadence: contract.Quarterly, Timing: contract.InAdvance},
		Components: []contract.Component{
			{ID: "fee", Model: contract.Flat, Price: contract.Price{Amount: decimal.RequireFromString("100.005")},
				Ramps: []contract.Ramp{{From: d("2026-04-01"), Price: contract.Price{Amount: decimal.NewFromInt(300)}}}},
			{ID: "seats", Model: contract.Seats, Price: contract.Price{UnitPrice: decimal.NewFromInt(10), Seats: 3},
				Discount: &contract.Discount{Kind: contract.DiscountPercent, Percent: decimal.NewFromInt(50), From: d("2026-04-01")}},
			{ID: "api", Model: contract.PerUnit, Meter: "calls", Price: contract.Price{UnitPrice: decimal.NewFromInt(99)}},
		},
		Commit: &contract.Commit{Amount: decimal.NewFromInt(7)},
	}
	// Q1: 100.01 (rounded half away from zero) + 30 + 7; Q2: 300 + 15 (50% off from April) + 7.
	got, err := intake.TotalContractValue(base)
	if err != nil {
		t.Fatal(err)
	}
	if want := decimal.RequireFromString("459.01"); !got.Equal(want) {
		t.Errorf("TCV = %s, want %s", got, want)
	}
	fixed := base
	fixed.Discounts = []contract.Discount{{Kind: contract.DiscountFixed, Amount: decimal.NewFromInt(1000)}}
	if got, _ := intake.TotalContractValue(fixed); !got.IsZero() {
		t.Errorf("a fixed discount above the period's value leaves %s, want 0", got)
	}
	open := base
	open.End = contract.Date{}
	if _, err := intake.TotalContractValue(open); err == nil {
		t.Error("an open-ended contract has a TCV")
	}
}

func TestAmendmentDate(t *testing.T) {
	d := contract.MustDate
	v1 := contract.Version{Version: 1, Start: d("2026-03-01")}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	cases := []struct {
		name     string
		edited   time.Time
		latest   contract.Version
		invoiced contract.Date
		want     string
	}{
		{"the edit's UTC date", at("2026-11-24T23:30:00-05:00"), v1, contract.Date{}, "2026-11-25"},
		{"not inside an invoiced period", at("2026-11-24T10:00:00Z"), v1, d("2026-12-01"), "2026-12-01"},
		{"after the latest version", at("2026-02-10T10:00:00Z"), v1, contract.Date{}, "2026-03-02"},
		{"after an amendment of the same day", at("2026-11-24T10:00:00Z"), contract.Version{Version: 2, Start: d("2026-03-01"), EffectiveFrom: d("2026-11-24")}, contract.Date{}, "2026-11-25"},
	}
	for _, c := range cases {
		if got := intake.AmendmentDate(c.edited, c.latest, c.invoiced); got.String() != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
