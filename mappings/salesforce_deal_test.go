package mappings

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/contract"
)

func sfDec(s string) *decimal.Decimal { d := decimal.RequireFromString(s); return &d }

func sfDay(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func sfEq(t *testing.T, what string, got decimal.Decimal, want string) {
	t.Helper()
	if !got.Equal(decimal.RequireFromString(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

var (
	sfPlatform = &salesforce.Product{ID: "01t000000000PLT", Name: "Platform", ProductCode: "PLATFORM", PriceModel: "platform_fee"}
	sfSeats    = &salesforce.Product{ID: "01t000000000SEA", Name: "User seats", ProductCode: "SEATS", PriceModel: "seats", Unit: "seat"}
	sfAPI      = &salesforce.Product{ID: "01t000000000API", Name: "API calls", ProductCode: "API", PriceModel: "graduated", Meter: "api_calls", Unit: "call", Tiers: "0-100000=0.002; 100000+=0.001"}
	sfEmails   = &salesforce.Product{ID: "01t000000000EML", Name: "Emails", ProductCode: "EMAILS", PriceModel: "volume", Meter: "emails", Unit: "email", Tiers: "0-10000=0.001; 10000+=0.0008"}
	sfStorage  = &salesforce.Product{ID: "01t000000000STO", Name: "Storage", ProductCode: "STORAGE", PriceModel: "per_unit", Meter: "storage_gb_month", Unit: "GB-month", Rate: sfDec("0.023")}
	sfSms      = &salesforce.Product{ID: "01t000000000SMS", Name: "SMS", ProductCode: "SMS", PriceModel: "package", Meter: "sms", Unit: "message"}
	sfPayments = &salesforce.Product{ID: "01t000000000PAY", Name: "Payments", ProductCode: "PAYMENTS", PriceModel: "percentage", Meter: "payment_volume", Unit: "USD"}
	sfCommit   = &salesforce.Product{ID: "01t000000000COM", Name: "Minimum commit", ProductCode: "COMMIT", PriceModel: "minimum_commit"}
	sfCredits  = &salesforce.Product{ID: "01t000000000CRD", Name: "Prepaid credits", ProductCode: "CREDITS", PriceModel: "prepaid_credits"}
)

// line builds a line item the way Salesforce computes TotalPrice: quantity x unit price less the discount.
func sfLine(id string, p *salesforce.Product, qty, unit string, opts ...func(*salesforce.LineItem)) salesforce.LineItem {
	li := salesforce.LineItem{ID: "00k00000000" + id, Product2ID: p.ID, Product: p, Quantity: sfDec(qty), UnitPrice: sfDec(unit), ServiceDate: sfDay("2026-01-01")}
	for _, o := range opts {
		o(&li)
	}
	total := li.Quantity.Mul(*li.UnitPrice)
	if li.Discount != nil {
		total = total.Mul(decimal.NewFromInt(100).Sub(*li.Discount)).Div(decimal.NewFromInt(100)).Round(2)
	}
	li.TotalPrice = &total
	return li
}

func sfService(from, last string) func(*salesforce.LineItem) {
	return func(li *salesforce.LineItem) {
		li.ServiceDate = sfDay(from)
		if last != "" {
			li.EndDate = sfDay(last)
		}
	}
}

func sfDiscount(pct string) func(*salesforce.LineItem) {
	return func(li *salesforce.LineItem) { li.Discount = sfDec(pct) }
}

func sfDeal(lines ...salesforce.LineItem) salesforce.Deal {
	d := salesforce.Deal{
		Opportunity: salesforce.Opportunity{
			ID: "006000000000ACM", Name: "Acme 2026", AccountID: "001000000000ACM", StageName: "Closed Won", IsWon: true, IsClosed: true,
			CloseDate: sfDay("2025-12-15"), CurrencyIsoCode: "USD", BillingEntity: "revhub-us", PaymentProvider: "stripe",
			ContractStart: sfDay("2026-01-01"), ContractTermMonths: sfDec("12"), BillingFrequency: "Monthly",
		},
		Account:   &salesforce.Account{ID: "001000000000ACM", Name: "Acme Corp"},
		LineItems: lines,
	}
	sum := decimal.Zero
	for _, li := range lines {
		sum = sum.Add(*li.TotalPrice)
	}
	d.Opportunity.Amount = &sum
	return d
}

func TestSalesforceDealPriceModels(t *testing.T) {
	cases := []struct {
		name  string
		deal  salesforce.Deal
		check func(t *testing.T, v contract.Version)
	}{
		{"platform fee", sfDeal(sfLine("1", sfPlatform, "1", "12000")), func(t *testing.T, v contract.Version) {
			c := v.Components[0]
			if c.ID != "platform" || c.Model != contract.Flat || c.Product != "PLATFORM" || len(c.Ramps) != 0 {
				t.Errorf("component = %+v", c)
			}
			sfEq(t, "monthly fee", c.Price.Amount, "1000")
		}},
		{"seats with discount", sfDeal(sfLine("1", sfSeats, "25", "360", sfDiscount("10"))), func(t *testing.T, v contract.Version) {
			c := v.Components[0]
			if c.Model != contract.Seats || c.Price.Seats != 25 || c.Discount == nil || c.Discount.Kind != contract.DiscountPercent {
				t.Errorf("component = %+v", c)
			}
			sfEq(t, "seat price per month", c.Price.UnitPrice, "30")
			sfEq(t, "discount", c.Discount.Percent, "10")
		}},
		{"graduated usage with tiers from the line", sfDeal(sfLine("1", sfAPI, "1", "0", func(li *salesforce.LineItem) { li.Tiers = "0-1000000=0.0015; 1000000+=0.0009" })),
			func(t *testing.T, v contract.Version) {
				c := v.Components[0]
				if c.Model != contract.Graduated || c.Meter != "api_calls" || len(c.Price.Tiers) != 2 || c.Price.Tiers[1].UpTo != nil {
					t.Fatalf("component = %+v", c)
				}
				sfEq(t, "tier 1 price", c.Price.Tiers[0].UnitPrice, "0.0015")
				sfEq(t, "tier 1 up_to", *c.Price.Tiers[0].UpTo, "1000000")
				if len(v.Meters) != 1 || v.Meters[0] != (contract.Meter{ID: "api_calls", Unit: "call"}) {
					t.Errorf("meters = %+v", v.Meters)
				}
			}},
		{"volume usage with product tiers", sfDeal(sfLine("1", sfEmails, "1", "0")), func(t *testing.T, v contract.Version) {
			c := v.Components[0]
			if c.Model != contract.Volume || len(c.Price.Tiers) != 2 {
				t.Fatalf("component = %+v", c)
			}
			sfEq(t, "tier 2 price", c.Price.Tiers[1].UnitPrice, "0.0008")
		}},
		{"per-unit usage, line rate overrides product", sfDeal(sfLine("1", sfStorage, "1", "0", func(li *salesforce.LineItem) { li.Rate = sfDec("0.02") })),
			func(t *testing.T, v contract.Version) {
				c := v.Components[0]
				if c.Model != contract.PerUnit || c.Meter != "storage_gb_month" {
					t.Fatalf("component = %+v", c)
				}
				sfEq(t, "unit price", c.Price.UnitPrice, "0.02")
			}},
		{"package usage", sfDeal(sfLine("1", sfSms, "1", "0", func(li *salesforce.LineItem) { li.PackageSize, li.Rate = sfDec("1000"), sfDec("7.50") })),
			func(t *testing.T, v contract.Version) {
				c := v.Components[0]
				if c.Model != contract.Package {
					t.Fatalf("component = %+v", c)
				}
				sfEq(t, "package size", c.Price.PackageSize, "1000")
				sfEq(t, "package price", c.Price.PackagePrice, "7.5")
			}},
		{"percentage of volume", sfDeal(sfLine("1", sfPayments, "1", "0", func(li *salesforce.LineItem) { li.Percent, li.Rate = sfDec("2.9"), sfDec("0.30") })),
			func(t *testing.T, v contract.Version) {
				c := v.Components[0]
				if c.Model != contract.Percentage || c.Meter != "payment_volume" {
					t.Fatalf("component = %+v", c)
				}
				sfEq(t, "percent", c.Price.Percent, "2.9")
				sfEq(t, "fixed fee", c.Price.FixedFee, "0.3")
			}},
		{"minimum commit", sfDeal(sfLine("1", sfAPI, "1", "0"), sfLine("2", sfCommit, "1", "6000")), func(t *testing.T, v contract.Version) {
			if v.Commit == nil || v.Commit.Product != "COMMIT" || len(v.Commit.Components) != 0 {
				t.Fatalf("commit = %+v", v.Commit)
			}
			sfEq(t, "commit per month", v.Commit.Amount, "500")
			if len(v.Components) != 1 {
				t.Errorf("components = %+v, want the usage component only", v.Components)
			}
		}},
		{"prepaid sfCredits bought each quarter", func() salesforce.Deal {
			d := sfDeal(sfLine("1", sfCredits, "1", "12000", sfDiscount("5")), sfLine("2", sfStorage, "1", "0"))
			d.Opportunity.BillingFrequency = "Quarterly"
			return d
		}(), func(t *testing.T, v contract.Version) {
			if v.Billing.Cadence != contract.Quarterly || len(v.Credits) != 1 || v.Credits[0].Every != contract.GrantEveryPeriod {
				t.Fatalf("billing %+v sfCredits %+v", v.Billing, v.Credits)
			}
			sfEq(t, "credits granted per quarter", v.Credits[0].Amount, "3000")
			c := v.Components[0]
			if c.ID != "credits" || c.Model != contract.Flat || c.Discount == nil {
				t.Fatalf("purchase component = %+v", c)
			}
			sfEq(t, "purchase per quarter before discount", c.Price.Amount, "3000")
		}},
		{"ramp by service date, annual billing", func() salesforce.Deal {
			d := sfDeal(
				sfLine("1", sfPlatform, "1", "24000", sfService("2026-01-01", "2026-12-31")),
				sfLine("2", sfPlatform, "1", "36000", sfService("2027-01-01", "2027-12-31")),
				sfLine("3", sfSeats, "50", "240", sfService("2026-01-01", "2026-12-31")),
				sfLine("4", sfSeats, "80", "240", sfService("2027-01-01", "")),
			)
			d.Opportunity.ContractTermMonths, d.Opportunity.BillingFrequency = sfDec("24"), "Annual"
			d.Opportunity.CurrencyIsoCode, d.Opportunity.BillingEntity = "EUR", "revhub-eu"
			return d
		}(), func(t *testing.T, v contract.Version) {
			if v.Currency != "EUR" || v.BillingEntity != "revhub-eu" || v.End != contract.MustDate("2028-01-01") {
				t.Errorf("header = %s %s end %s", v.Currency, v.BillingEntity, v.End)
			}
			p := v.Components[0]
			sfEq(t, "year 1 fee", p.Price.Amount, "24000")
			if len(p.Ramps) != 1 || p.Ramps[0].From != contract.MustDate("2027-01-01") || !p.Ramps[0].To.IsZero() {
				t.Fatalf("platform ramps = %+v", p.Ramps)
			}
			sfEq(t, "year 2 fee", p.Ramps[0].Price.Amount, "36000")
			s := v.Components[1]
			if s.Price.Seats != 50 || len(s.Ramps) != 1 || s.Ramps[0].Price.Seats != 80 {
				t.Errorf("seat ramps = %+v", s)
			}
		}},
		{"add-on starting mid-term gets a zero base price", sfDeal(sfLine("1", sfPlatform, "1", "6000", sfService("2026-07-01", ""))), func(t *testing.T, v contract.Version) {
			c := v.Components[0]
			if !c.Price.Amount.IsZero() || len(c.Ramps) != 1 || c.Ramps[0].From != contract.MustDate("2026-07-01") {
				t.Fatalf("component = %+v", c)
			}
			sfEq(t, "fee from July", c.Ramps[0].Price.Amount, "1000")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := SalesforceDeal(tc.deal)
			if err != nil {
				t.Fatalf("SalesforceDeal: %v", err)
			}
			if v.ContractID != "ctr_sf_006000000000ACM" || v.Version != 1 || v.Status != contract.StatusDraft ||
				v.Customer.ExternalID != "001000000000ACM" || v.Start != contract.MustDate("2026-01-01") {
				t.Errorf("header = %s v%d %s %+v start %s", v.ContractID, v.Version, v.Status, v.Customer, v.Start)
			}
			if err := v.Validate(); err != nil {
				t.Errorf("mapped version does not validate: %v", err)
			}
			tc.check(t, v)
		})
	}
}

func TestSalesforceDealRejections(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(d *salesforce.Deal)
		field  string
		reason string
	}{
		{"not won", func(d *salesforce.Deal) { d.Opportunity.IsWon = false }, "Opportunity.IsWon", "not won"},
		{"no account", func(d *salesforce.Deal) { d.Account = nil }, "Opportunity.AccountId", "no Account"},
		{"unknown currency", func(d *salesforce.Deal) { d.Opportunity.CurrencyIsoCode = "XXX" }, "Opportunity.CurrencyIsoCode", "ISO 4217"},
		{"missing billing entity", func(d *salesforce.Deal) { d.Opportunity.BillingEntity = "" }, "Opportunity.Billing_Entity__c", "required"},
		{"unknown payment provider", func(d *salesforce.Deal) { d.Opportunity.PaymentProvider = "cheque" }, "Opportunity.Payment_Provider__c", "not a payment provider"},
		{"unknown billing frequency", func(d *salesforce.Deal) { d.Opportunity.BillingFrequency = "Weekly" }, "Opportunity.Billing_Frequency__c", "not a billing frequency"},
		{"missing term", func(d *salesforce.Deal) { d.Opportunity.ContractTermMonths = nil }, "Opportunity.Contract_Term_Months__c", "required"},
		{"term not whole periods", func(d *salesforce.Deal) {
			d.Opportunity.ContractTermMonths, d.Opportunity.BillingFrequency = sfDec("18"), "Annual"
		},
			"Opportunity.Contract_Term_Months__c", "not a whole number of annual billing periods"},
		{"no start", func(d *salesforce.Deal) {
			d.Opportunity.ContractStart = time.Time{}
			for i := range d.LineItems {
				d.LineItems[i].ServiceDate = time.Time{}
			}
		}, "Opportunity.Contract_Start_Date__c", "required"},
		{"no line items", func(d *salesforce.Deal) { d.LineItems, d.Opportunity.Amount = nil, nil }, "OpportunityLineItem", "no line items"},
		{"amount differs from lines", func(d *salesforce.Deal) { d.Opportunity.Amount = sfDec("1") }, "Opportunity.Amount", "differs from the sum"},
		{"unknown price model", func(d *salesforce.Deal) {
			d.LineItems[0].Product = &salesforce.Product{ID: "01t000000000CUS", ProductCode: "CUSTOM", PriceModel: "enterprise_custom"}
		}, "Product2[01t000000000CUS].Price_Model__c", "unknown price model"},
		{"malformed tiers", func(d *salesforce.Deal) { d.LineItems[1].Tiers = "0-1000=abc; 1000+=0.001" }, "OpportunityLineItem[00k000000002].Tiers__c", `price "abc" is not a number`},
		{"tier gap", func(d *salesforce.Deal) { d.LineItems[1].Tiers = "0-1000=0.002; 2000+=0.001" }, "OpportunityLineItem[00k000000002].Tiers__c", "previous tier ends at 1000"},
		{"usage line with a unit price", func(d *salesforce.Deal) { d.LineItems[1].UnitPrice = sfDec("5") }, "OpportunityLineItem[00k000000002].UnitPrice", "must be 0"},
		{"usage product without meter", func(d *salesforce.Deal) {
			p := *sfAPI
			p.Meter = ""
			d.LineItems[1].Product = &p
		}, "Product2[01t000000000API].Meter__c", "required"},
		{"fee not whole per period", func(d *salesforce.Deal) { d.LineItems[0].UnitPrice = sfDec("10000") }, "OpportunityLineItem[00k000000001].UnitPrice", "not a whole USD amount per period"},
		{"service date off a period boundary", func(d *salesforce.Deal) { d.LineItems[0].ServiceDate = sfDay("2026-02-15") }, "OpportunityLineItem[00k000000001].ServiceDate", "billing-period boundary"},
		{"service after the contract", func(d *salesforce.Deal) { d.LineItems[0].EndDate = sfDay("2027-06-30") }, "OpportunityLineItem[00k000000001].End_Date__c", "after the contract's last day"},
		{"fractional seats", func(d *salesforce.Deal) {
			d.LineItems[0] = sfLine("1", sfSeats, "2.5", "360")
		}, "OpportunityLineItem[00k000000001].Quantity", "not a whole number of seats"},
		{"ramped commit", func(d *salesforce.Deal) {
			d.LineItems = append(d.LineItems, sfLine("3", sfCommit, "1", "3000", sfService("2026-01-01", "2026-06-30")), sfLine("4", sfCommit, "1", "3600", sfService("2026-07-01", "")))
		}, "OpportunityLineItem[00k000000003].ServiceDate", "cannot ramp or cover part of the term"},
		{"discounted commit", func(d *salesforce.Deal) {
			d.LineItems = append(d.LineItems, sfLine("3", sfCommit, "1", "6000", sfDiscount("10")))
		}, "OpportunityLineItem[00k000000003].Discount", "cannot be discounted"},
		{"discounts differ across ramp steps", func(d *salesforce.Deal) {
			d.LineItems = []salesforce.LineItem{sfLine("1", sfPlatform, "1", "6000", sfService("2026-01-01", "2026-06-30"), sfDiscount("10")), sfLine("2", sfPlatform, "1", "6000", sfService("2026-07-01", ""))}
		}, "OpportunityLineItem[00k000000002].Discount", "differs from 10%"},
		{"malformed record from the connector", func(d *salesforce.Deal) {
			d.Problems = []salesforce.FieldProblem{{Field: "OpportunityLineItem[00k000000001].Quantity", Reason: `want a JSON number, got the string "ten"`}}
		}, "OpportunityLineItem[00k000000001].Quantity", "want a JSON number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := sfDeal(sfLine("1", sfPlatform, "1", "12000"), sfLine("2", sfAPI, "1", "0"))
			tc.mutate(&d)
			v, err := SalesforceDeal(d)
			var ue *UnmappableDealError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *UnmappableDealError", err)
			}
			if ue.OpportunityID != "006000000000ACM" || !strings.Contains(ue.Error(), "Opportunity 006000000000ACM") {
				t.Errorf("error does not name the Opportunity: %v", ue)
			}
			if !slices.ContainsFunc(ue.Problems, func(p DealProblem) bool { return p.Field == tc.field && strings.Contains(p.Reason, tc.reason) }) {
				t.Errorf("problems = %+v\nwant %s: ...%s...", ue.Problems, tc.field, tc.reason)
			}
			if ue.Field != ue.Problems[0].Field || ue.Reason != ue.Problems[0].Reason {
				t.Errorf("Field/Reason = %s/%s, want the first problem", ue.Field, ue.Reason)
			}
			if v.ContractID != "" || len(v.Components) != 0 {
				t.Errorf("a rejected deal returned a partial contract: %+v", v)
			}
		})
	}
}

func TestSalesforceDealListsEveryProblem(t *testing.T) {
	d := sfDeal(sfLine("1", sfPlatform, "1", "10000"), sfLine("2", sfAPI, "1", "0", func(li *salesforce.LineItem) { li.Tiers = "0-1000=abc; 1000+=0.001" }))
	d.Opportunity.BillingEntity, d.Opportunity.PaymentProvider = "", ""
	_, err := SalesforceDeal(d)
	var ue *UnmappableDealError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range ue.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{
		"Opportunity.Billing_Entity__c", "Opportunity.Payment_Provider__c",
		"OpportunityLineItem[00k000000001].UnitPrice", "OpportunityLineItem[00k000000002].Tiers__c",
	}
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v\nwant %v", fields, want)
	}
}

func TestParseTiers(t *testing.T) {
	tiers, err := ParseSalesforceTiers(" 0-10=0 ;10-100 = 0.5; 100+=0.25; ")
	if err != nil || len(tiers) != 3 || tiers[2].UpTo != nil || !tiers[1].UpTo.Equal(decimal.NewFromInt(100)) {
		t.Fatalf("tiers = %+v, %v", tiers, err)
	}
	for _, bad := range []string{"", "5+=1", "0-10=1", "0-10=1; 5+=1", "0+=1; 10+=2", "0-10=-1; 10+=1", "0-0=1; 0+=1", "0=1"} {
		if _, err := ParseSalesforceTiers(bad); err == nil {
			t.Errorf("ParseSalesforceTiers(%q) accepted", bad)
		}
	}
}

// BenchmarkSalesforceDeal maps a deal with a ramped fee, seats, tiered usage and a commit.
func BenchmarkSalesforceDeal(b *testing.B) {
	d := sfDeal(
		sfLine("1", sfPlatform, "1", "6000", sfService("2026-01-01", "2026-06-30")),
		sfLine("2", sfPlatform, "1", "7200", sfService("2026-07-01", "")),
		sfLine("3", sfSeats, "25", "360", sfDiscount("10")),
		sfLine("4", sfAPI, "1", "0"),
		sfLine("5", sfCommit, "1", "6000"),
	)
	for b.Loop() {
		if _, err := SalesforceDeal(d); err != nil {
			b.Fatal(err)
		}
	}
}
