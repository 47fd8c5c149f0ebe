package mappings_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/connectors/salesforce/fake"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/mappings"
)

// TestSeedDealsMapEndToEnd reads the demo org through the connector and maps every won deal:
// each good deal becomes a valid contract whose fixed value equals the Opportunity Amount, and the
// broken deal is rejected with every problem named.
func TestSeedDealsMapEndToEnd(t *testing.T) {
	srv := fake.New(fake.Options{PageSize: 3})
	if err := srv.Seed(fake.DefaultFixture()); err != nil {
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
	mapped := map[string]contract.Version{}
	var rejected []*mappings.UnmappableDealError
	for _, d := range deals {
		v, err := mappings.SalesforceDeal(d)
		var ue *mappings.UnmappableDealError
		switch {
		case errors.As(err, &ue):
			rejected = append(rejected, ue)
		case err != nil:
			t.Fatalf("%s: %v", d.Opportunity.ID, err)
		default:
			mapped[d.Opportunity.ID] = v
			if got := fixedValue(t, v); !got.Equal(*d.Opportunity.Amount) {
				t.Errorf("%s: contract fixed value %s, Opportunity Amount %s", d.Opportunity.ID, got, d.Opportunity.Amount)
			}
		}
	}
	if len(mapped) != 5 {
		t.Errorf("mapped %d deals, want 5", len(mapped))
	}
	if len(rejected) != 1 || rejected[0].OpportunityID != "0065g00000broknAAA" {
		t.Fatalf("rejected = %v", rejected)
	}
	var fields []string
	for _, p := range rejected[0].Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"Product2[01t5g00000custmAAA].Price_Model__c", "OpportunityLineItem[00k5g00000l0019AAA].Tiers__c"}
	if !slices.Equal(fields, want) {
		t.Errorf("broken deal problems = %v\nwant %v", fields, want)
	}
	if v := mapped["0065g00000umbrlAAA"]; v.Currency != "EUR" || v.BillingEntity != "revhub-eu" || len(v.Components[0].Ramps) != 1 {
		t.Errorf("umbrella = %+v", v)
	}
}

// fixedValue is the committed value of a mapped contract: recurring fees and seats over their periods
// (less discounts) plus the minimum commit; usage adds nothing until it is used.
func fixedValue(t *testing.T, v contract.Version) decimal.Decimal {
	t.Helper()
	months := v.Billing.Cadence.Months()
	total := decimal.Zero
	for d := v.Start; d.Before(v.End); d = d.AddMonths(months) {
		for _, c := range v.Components {
			p, _ := c.PriceOn(d)
			var amount decimal.Decimal
			switch c.Model {
			case contract.Flat:
				amount = p.Amount
			case contract.Seats:
				amount = p.UnitPrice.Mul(decimal.NewFromInt(p.Seats))
			default:
				continue
			}
			if c.Discount != nil {
				amount = amount.Mul(decimal.NewFromInt(100).Sub(c.Discount.Percent)).Div(decimal.NewFromInt(100))
			}
			total = total.Add(amount)
		}
		if v.Commit != nil {
			total = total.Add(v.Commit.Amount)
		}
	}
	return total
}
