package invoicerun

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/usage"
)

// Meters the generated contracts price; their definitions are shared by every run.
const (
	MeterRequests = "bench_requests" // SUM of $.requests, priced per unit
	MeterTokens   = "bench_tokens"   // SUM of $.tokens, priced on graduated tiers
	eventRequests = "bench.request"
	eventTokens   = "bench.tokens"
	eventSource   = "bench-invoice-run"
	requestPrice  = "0.0015"
)

// tokenTiers is the graduated price of MeterTokens: (from, up_to] at unit_price.
var tokenTiers = []struct{ from, upTo, price string }{
	{"0", "100000", "0.00002"},
	{"100000", "1000000", "0.000015"},
	{"1000000", "", "0.00001"},
}

// flatFees are the monthly platform fees the generator picks from.
var flatFees = []string{"49.00", "99.00", "250.00", "1200.00"}

// Meters returns the meter definitions the generated usage events feed.
func Meters() []*usage.Meter {
	return []*usage.Meter{
		{Slug: MeterRequests, EventType: eventRequests, Aggregation: usage.Sum, ValueProperty: "$.requests", Description: "bench invoice-run: API requests"},
		{Slug: MeterTokens, EventType: eventTokens, Aggregation: usage.Sum, ValueProperty: "$.tokens", Description: "bench invoice-run: LLM tokens"},
	}
}

// Generator makes a deterministic, realistic mix of contracts and usage for one run.
type Generator struct {
	Run         string    // short run id, part of every contract and customer id
	PeriodStart time.Time // first day of the billed month (UTC midnight)
}

// PeriodEnd is the first day after the billed month.
func (g *Generator) PeriodEnd() time.Time { return g.PeriodStart.AddDate(0, 1, 0) }

// Planned is one generated contract with its usage and the invoice total the generator expects.
type Planned struct {
	Version  contract.Version
	Events   []usage.Event
	Provider contract.PaymentProvider
	Currency money.Currency
	Requests int64           // sum of the requests events
	Tokens   int64           // sum of the token events; 0 when the contract has no token component
	Expected decimal.Decimal // flat fee + round(requests x price) + round(graduated tokens charge)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// ContractID is the id of contract i of the run.
func (g *Generator) ContractID(i int) string { return fmt.Sprintf("b%s-ctr-%05d", g.Run, i) }

// CustomerID is the customer external id of contract i of the run.
func (g *Generator) CustomerID(i int) string { return fmt.Sprintf("b%s-cus-%05d", g.Run, i) }

// Contract generates contract i: a flat monthly fee in arrears plus per-unit requests; one in five
// also has graduated token pricing. A quarter bill in EUR; 30% pay through PayPal, the rest Stripe.
func (g *Generator) Contract(i int) Planned {
	h := splitmix(uint64(i) ^ 0x5eed)
	p := Planned{Currency: "USD", Provider: contract.ProviderStripe}
	entity := "US"
	if h%4 == 3 {
		p.Currency, entity = "EUR", "EU"
	}
	if (h>>8)%10 < 3 {
		p.Provider = contract.ProviderPayPal
	}
	method := "pm_card_visa"
	if p.Provider == contract.ProviderPayPal {
		method = fmt.Sprintf("vault-%s-%05d", g.Run, i)
	}
	fee := decimal.RequireFromString(flatFees[(h>>16)%uint64(len(flatFees))])
	withTokens := (h>>24)%5 == 0
	start := contract.DateOf(g.PeriodStart)
	v := contract.Version{
		ContractID: g.ContractID(i), Version: 1, Status: contract.StatusActive,
		Customer: contract.Customer{ExternalID: g.CustomerID(i), Name: fmt.Sprintf("Bench customer %05d", i)},
		Currency: p.Currency, BillingEntity: entity, PaymentProvider: p.Provider, PaymentMethod: method,
		Start: start, Billing: contract.Billing{Cadence: contract.Monthly, Timing: contract.InArrears},
		Meters: []contract.Meter{{ID: MeterRequests, Unit: "request"}},
		Components: []contract.Component{
			{ID: "platform", Product: "platform", Model: contract.Flat, Price: contract.Price{Amount: fee}},
			{ID: "requests", Product: "api", Model: contract.PerUnit, Meter: MeterRequests, Price: contract.Price{UnitPrice: decimal.RequireFromString(requestPrice)}},
		},
	}
	if withTokens {
		var tiers []contract.Tier
		for _, t := range tokenTiers {
			tier := contract.Tier{From: decimal.RequireFromString(t.from), UnitPrice: decimal.RequireFromString(t.price)}
			if t.upTo != "" {
				up := decimal.RequireFromString(t.upTo)
				tier.UpTo = &up
			}
			tiers = append(tiers, tier)
		}
		v.Meters = append(v.Meters, contract.Meter{ID: MeterTokens, Unit: "token"})
		v.Components = append(v.Components, contract.Component{ID: "tokens", Product: "llm", Model: contract.Graduated, Meter: MeterTokens, Price: contract.Price{Tiers: tiers}})
	}
	p.Version = v

	// Usage: 4 to 11 request events and, with tokens, 3 token events, spread over the month.
	days := int(g.PeriodEnd().Sub(g.PeriodStart).Hours() / 24)
	nreq := 4 + int((h>>32)%8)
	for e := range nreq {
		r := splitmix(h + uint64(e))
		n := int64(100 + r%9901) // 100..10,000 requests
		p.Requests += n
		p.Events = append(p.Events, g.event(i, "r", e, eventRequests, g.PeriodStart.Add(time.Duration(r>>20%uint64(days*24))*time.Hour), map[string]int64{"requests": n}))
	}
	if withTokens {
		for e := range 3 {
			r := splitmix(h ^ uint64(1000+e))
			n := int64(1000 + r%800000) // up to 801,000 tokens per event
			p.Tokens += n
			p.Events = append(p.Events, g.event(i, "t", e, eventTokens, g.PeriodStart.Add(time.Duration(r>>20%uint64(days*24))*time.Hour), map[string]int64{"tokens": n}))
		}
	}
	p.Expected = expectedTotal(fee, p.Requests, p.Tokens, p.Currency)
	return p
}

func (g *Generator) event(i int, kind string, n int, typ string, at time.Time, data map[string]int64) usage.Event {
	b, _ := json.Marshal(data) // a map of int64 always marshals
	return usage.Event{ID: fmt.Sprintf("b%s-%05d-%s%d", g.Run, i, kind, n), Source: eventSource, SpecVersion: "1.0",
		Type: typ, Subject: g.CustomerID(i), Time: at, DataContentType: "application/json", Data: b}
}

// expectedTotal is the generator's own arithmetic of an invoice: each line computed exactly and
// rounded once at the currency's minor unit, the total the sum of the lines.
func expectedTotal(fee decimal.Decimal, requests, tokens int64, cur money.Currency) decimal.Decimal {
	total := fee
	total = total.Add(money.MustRound(decimal.NewFromInt(requests).Mul(decimal.RequireFromString(requestPrice)), cur))
	if tokens > 0 {
		left, charge := decimal.NewFromInt(tokens), decimal.Zero
		for _, t := range tokenTiers {
			band := left
			if t.upTo != "" {
				width := decimal.RequireFromString(t.upTo).Sub(decimal.RequireFromString(t.from))
				band = decimal.Min(left, width)
			}
			charge = charge.Add(band.Mul(decimal.RequireFromString(t.price)))
			left = left.Sub(band)
			if !left.IsPositive() {
				break
			}
		}
		total = total.Add(money.MustRound(charge, cur))
	}
	return total
}
