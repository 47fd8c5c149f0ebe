package simulate

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/rating"
)

// Request is one simulation: contracts, the usage per customer external id, a day inside the period to rate,
// and optionally proposed contracts (matched to the current ones by customer) to re-rate the same period.
type Request struct {
	Contracts []contract.Contract
	Proposed  []contract.Contract
	Usage     map[string]rating.Usage
	Day       contract.Date
}

// Result holds the invoices under the current contracts and, when proposed contracts were given, under those
// and the difference.
type Result struct {
	Invoices []rating.Invoice `json:"invoices"`
	Proposed []rating.Invoice `json:"proposed,omitempty"`
	Diff     *Diff            `json:"diff,omitempty"`
}

// Diff compares current and proposed invoices per line, per customer and in total (proposed minus current).
type Diff struct {
	Lines     []LineDiff     `json:"lines"`
	Customers []CustomerDiff `json:"customers"`
	Totals    []TotalDiff    `json:"totals"`
}

// LineDiff is one line's amount under each contract; lines are matched by customer, kind and component (or
// discount or credit id), summed over the parts of a split period.
type LineDiff struct {
	Customer   string          `json:"customer"`
	Line       string          `json:"line"`
	Currency   money.Currency  `json:"currency"`
	Current    decimal.Decimal `json:"current"`
	Proposed   decimal.Decimal `json:"proposed"`
	Difference decimal.Decimal `json:"difference"`
}

// CustomerDiff is a customer's invoice total under each contract.
type CustomerDiff struct {
	Customer   string          `json:"customer"`
	Currency   money.Currency  `json:"currency"`
	Current    decimal.Decimal `json:"current"`
	Proposed   decimal.Decimal `json:"proposed"`
	Difference decimal.Decimal `json:"difference"`
}

// TotalDiff is the grand total per currency under each contract.
type TotalDiff struct {
	Currency   money.Currency  `json:"currency"`
	Current    decimal.Decimal `json:"current"`
	Proposed   decimal.Decimal `json:"proposed"`
	Difference decimal.Decimal `json:"difference"`
}

// Run rates every contract for the billing period containing Day and, with proposed contracts, re-rates and diffs.
func Run(req Request) (Result, error) {
	if req.Day.IsZero() {
		return Result{}, fmt.Errorf("simulate: period: a day inside the billing period is required")
	}
	cur, err := rateAll(req.Contracts, req.Usage, req.Day)
	if err != nil {
		return Result{}, err
	}
	res := Result{Invoices: cur}
	if len(req.Proposed) == 0 {
		return res, nil
	}
	prop, err := rateAll(req.Proposed, req.Usage, req.Day)
	if err != nil {
		return Result{}, fmt.Errorf("proposed: %w", err)
	}
	res.Proposed = prop
	d, err := diff(cur, prop)
	if err != nil {
		return Result{}, err
	}
	res.Diff = &d
	return res, nil
}

func rateAll(cs []contract.Contract, usage map[string]rating.Usage, day contract.Date) ([]rating.Invoice, error) {
	known := map[string]bool{}
	var out []rating.Invoice
	for _, c := range cs {
		cust := customerOf(c)
		known[cust] = true
		bp, err := rating.PeriodOn(c, day)
		if err != nil {
			return nil, fmt.Errorf("contract %s: %w", c.ID, err)
		}
		inv, err := rating.Rate(c, bp.Period, usage[cust])
		if err != nil {
			return nil, fmt.Errorf("contract %s (customer %s): %w", c.ID, cust, err)
		}
		out = append(out, inv)
	}
	var unknown []string
	for cust := range usage {
		if !known[cust] {
			unknown = append(unknown, cust)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("usage for customers without a contract in this simulation: %v", unknown)
	}
	return out, nil
}

// lineName identifies a line across contracts: kind and component, or the discount or credit id for those.
func lineName(l rating.Line) string {
	if l.Component != "" {
		return string(l.Kind) + " " + l.Component
	}
	return string(l.Kind) + " " + lastPart(l.Key)
}

func lastPart(k string) string {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == ':' {
			return k[i+1:]
		}
	}
	return k
}

func diff(cur, prop []rating.Invoice) (Diff, error) {
	type key struct{ customer, line string }
	type pair struct{ cur, prop decimal.Decimal }
	byCust := func(invs []rating.Invoice) map[string]rating.Invoice {
		m := map[string]rating.Invoice{}
		for _, inv := range invs {
			m[inv.Customer] = inv
		}
		return m
	}
	cm, pm := byCust(cur), byCust(prop)
	var customers []string
	for c := range cm {
		customers = append(customers, c)
	}
	for c := range pm {
		if _, ok := cm[c]; !ok {
			customers = append(customers, c)
		}
	}
	sort.Strings(customers)
	var d Diff
	totals := map[money.Currency]*TotalDiff{}
	var currencies []money.Currency
	for _, cust := range customers {
		ci, hasC := cm[cust]
		pi, hasP := pm[cust]
		currency := ci.Currency
		if !hasC {
			currency = pi.Currency
		}
		if hasC && hasP && ci.Currency != pi.Currency {
			return Diff{}, fmt.Errorf("customer %s: the proposed contract is in %s, the current one in %s; no difference can be computed", cust, pi.Currency, ci.Currency)
		}
		sums := map[key]*pair{}
		var order []key
		add := func(inv rating.Invoice, proposed bool) {
			for _, l := range inv.Lines {
				k := key{cust, lineName(l)}
				p, ok := sums[k]
				if !ok {
					p = &pair{}
					sums[k] = p
					order = append(order, k)
				}
				if proposed {
					p.prop = p.prop.Add(l.Amount)
				} else {
					p.cur = p.cur.Add(l.Amount)
				}
			}
		}
		if hasC {
			add(ci, false)
		}
		if hasP {
			add(pi, true)
		}
		for _, k := range order {
			p := sums[k]
			d.Lines = append(d.Lines, LineDiff{Customer: cust, Line: k.line, Currency: currency, Current: p.cur, Proposed: p.prop, Difference: p.prop.Sub(p.cur)})
		}
		cd := CustomerDiff{Customer: cust, Currency: currency, Current: ci.Total, Proposed: pi.Total}
		cd.Difference = cd.Proposed.Sub(cd.Current)
		d.Customers = append(d.Customers, cd)
		t, ok := totals[currency]
		if !ok {
			t = &TotalDiff{Currency: currency}
			totals[currency] = t
			currencies = append(currencies, currency)
		}
		t.Current, t.Proposed = t.Current.Add(cd.Current), t.Proposed.Add(cd.Proposed)
	}
	sort.Slice(currencies, func(i, j int) bool { return currencies[i] < currencies[j] })
	for _, c := range currencies {
		t := totals[c]
		t.Difference = t.Proposed.Sub(t.Current)
		d.Totals = append(d.Totals, *t)
	}
	return d, nil
}
