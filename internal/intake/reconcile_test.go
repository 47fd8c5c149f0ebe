package intake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/internal/recon"
)

func TestCRMCheckExplainsEveryDifference(t *testing.T) {
	n := decimal.NewFromInt
	deals := []intake.DealValue{
		{OpportunityID: "006000000000004AAA", Currency: "USD", LineTotal: n(50)},  // nobody accounted for it
		{OpportunityID: "006000000000001AAA", Currency: "USD", LineTotal: n(100)}, // matched
		{OpportunityID: "006000000000002AAA", Currency: "EUR", LineTotal: n(120)}, // value differs
		{OpportunityID: "006000000000003AAA", Currency: "USD", LineTotal: n(70)},  // rejected
		{OpportunityID: "006000000000005AAA", Currency: "ZZZ", LineTotal: n(1)},   // not a currency
	}
	contracts := map[string]intake.ContractValue{
		"006000000000001AAA": {ContractID: "ctr_sf_1", Currency: "USD", TCV: n(100)},
		"006000000000002AAA": {ContractID: "ctr_sf_2", Currency: "EUR", TCV: n(110)},
	}
	rejections := map[string]intake.Rejection{
		"006000000000003AAA": {Kind: intake.KindUnmappableDeal, SystemModstamp: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
			Problems: []intake.Problem{{Field: "Opportunity.Billing_Entity__c", Reason: "required"}}},
		"006000000000005AAA": {Kind: intake.KindUnmappableDeal, SystemModstamp: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
			Problems: []intake.Problem{{Field: "Opportunity.CurrencyIsoCode", Reason: "not ISO 4217"}}},
	}
	check, sum, err := intake.CRMCheck("run", deals, contracts, rejections)
	if err != nil {
		t.Fatal(err)
	}
	want := intake.CRMSummary{Deals: 5, Matched: 1, Mismatched: 1, Rejected: 2, Missing: 1, Unlisted: []string{"006000000000005AAA"}}
	if sum.Deals != want.Deals || sum.Matched != want.Matched || sum.Mismatched != want.Mismatched || sum.Rejected != want.Rejected ||
		sum.Missing != want.Missing || len(sum.Unlisted) != 1 || sum.Unlisted[0] != want.Unlisted[0] {
		t.Fatalf("summary = %+v, want %+v", sum, want)
	}
	if len(check.Differences) != 3 {
		t.Fatalf("differences = %+v", check.Differences)
	}
	reasons := map[string]string{}
	for _, d := range check.Differences {
		reasons[d.Key] = d.Reason
	}
	for key, part := range map[string]string{
		"006000000000002AAA": "line items total 120, contract ctr_sf_2's total contract value is 110",
		"006000000000003AAA": "rejected (unmappable_deal) at 2026-11-24T09:00:00Z: Opportunity.Billing_Entity__c: required",
		"006000000000004AAA": "no contract and no recorded rejection",
	} {
		if !strings.Contains(reasons[key], part) {
			t.Errorf("%s: reason %q does not say %q", key, reasons[key], part)
		}
	}
	if res := recon.NewResult(check, 1, recon.Tolerance{}); res.Status != recon.StatusBlocked {
		t.Errorf("status %s, want blocked", res.Status)
	}
}
