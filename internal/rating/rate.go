// Package rating turns a contract and the quantities measured in a billing period into explained invoice lines.
// It is pure: no I/O, no clock. Every line amount is rounded exactly once, with money.Round (half away from
// zero at the currency's ISO 4217 minor unit), and the invoice total is exactly the sum of its lines.
package rating

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
)

// divPlaces is the precision of intermediate divisions (prorations, percentages) before the one rounding.
const divPlaces = 20

// RateVersion rates one billing period of a single-version contract; see Rate.
func RateVersion(v contract.Version, p Period, u Usage) (Invoice, error) {
	return Rate(contract.Contract{ID: v.ContractID, Versions: []contract.Version{v}}, p, u)
}

// Rate rates billing period p of contract c (which must have passed Validate) with the usage measured in it.
// A period spanning an amendment is split at the amendment's effective date: each part is rated under its own
// version and recurring fees are prorated daily; periods before the amendment are never touched.
// Order within each part: charges, component discounts, commit true-up, invoice discounts, credits.
func Rate(c contract.Contract, p Period, u Usage) (Invoice, error) {
	bp, err := PeriodOn(c, p.Start)
	if err != nil {
		return Invoice{}, fmt.Errorf("rate: %w", err)
	}
	if bp.Period != p {
		return Invoice{}, fmt.Errorf("rate contract %s: %s is not a billing period (the period containing %s is %s)", c.ID, p, p.Start, bp.Period)
	}
	segs, err := segments(&c, bp)
	if err != nil {
		return Invoice{}, fmt.Errorf("rate: %w", err)
	}
	first := segs[0].version
	places, err := first.Currency.MinorUnits()
	if err != nil {
		return Invoice{}, fmt.Errorf("rate contract %s: %w", c.ID, err)
	}
	for _, s := range segs[1:] {
		if s.version.Currency != first.Currency {
			return Invoice{}, fmt.Errorf("rate contract %s: version %d changes the currency from %s to %s inside period %s", c.ID, s.version.Version, first.Currency, s.version.Currency, p)
		}
	}
	if err := checkUsage(&c, bp, segs, &u); err != nil {
		return Invoice{}, err
	}
	r := &rater{
		c: &c, bp: bp, u: &u, cur: first.Currency, places: places,
		rounding: fmt.Sprintf("%s to %d decimal places (%s)", money.RoundingMode, places, first.Currency),
		free:     map[string]decimal.Decimal{},
	}
	r.inv = Invoice{ContractID: c.ID, Customer: first.Customer.ExternalID, Currency: first.Currency, Period: p,
		Lines: make([]Line, 0, len(segs)*(len(first.Components)+2)+len(u.Late))}
	r.lots = r.openLots(segs)
	for _, s := range segs {
		if err := r.rateSegment(s); err != nil {
			return Invoice{}, err
		}
	}
	if err := r.rateLate(); err != nil {
		return Invoice{}, err
	}
	r.closeLots()
	r.totals()
	return r.inv, nil
}

type rater struct {
	c        *contract.Contract
	bp       BillingPeriod
	u        *Usage
	cur      money.Currency
	places   int32
	rounding string
	inv      Invoice
	free     map[string]decimal.Decimal // free units already used this period, by component id
	lots     []*CreditLot
	carry    map[string][2]decimal.Decimal // recurring fee parts so far this period: exact and rounded sums
}

func (r *rater) round(d decimal.Decimal) decimal.Decimal { return d.Round(r.places) }

// roundPart rounds one part of a recurring fee split across the period's parts (amendments) so that the parts
// add up to the rounded whole: part = round(exact parts so far) - rounded parts so far. With one part it is round(exact).
func (r *rater) roundPart(key string, exact decimal.Decimal) decimal.Decimal {
	if r.carry == nil {
		r.carry = map[string][2]decimal.Decimal{}
	}
	c := r.carry[key]
	sum := c[0].Add(exact)
	rounded := r.round(sum)
	part := rounded.Sub(c[1])
	r.carry[key] = [2]decimal.Decimal{sum, rounded}
	return part
}

func (r *rater) key(v *contract.Version, comp string, kind LineKind, start contract.Date, extra string) string {
	k := r.c.ID + ":" + start.String() + ":v" + strconv.Itoa(v.Version) + ":" + string(kind) + ":" + comp
	if extra != "" {
		k += ":" + extra
	}
	return k
}

// prorate returns amount x days / nominal period days, unrounded.
func (r *rater) prorate(amount decimal.Decimal, days int) decimal.Decimal {
	nd := r.bp.Nominal.Days()
	if days == nd {
		return amount
	}
	return amount.Mul(decimal.NewFromInt(int64(days))).DivRound(decimal.NewFromInt(int64(nd)), divPlaces)
}

func (r *rater) proration(days int) *Proration {
	if days == r.bp.Nominal.Days() {
		return nil
	}
	return &Proration{Days: days, PeriodDays: r.bp.Nominal.Days()}
}

func (r *rater) add(l Line) {
	l.Explanation.Rounding = r.rounding
	r.inv.Lines = append(r.inv.Lines, l)
}

func (r *rater) rateSegment(s segment) error {
	v := s.version
	startLine := len(r.inv.Lines)
	days := s.Days()
	for ci := range v.Components {
		comp := &v.Components[ci]
		price, ramp := comp.PriceOn(s.Start)
		ex := Explanation{Clause: s.clause + ".components[" + strconv.Itoa(ci) + "]", Model: comp.Model, Meter: comp.Meter, Group: comp.Group}
		if ramp >= 0 {
			rp := ramp
			ex.Ramp = &rp
			ex.Clause = fmt.Sprintf("%s.components[%d].ramps[%d]", s.clause, ci, ramp)
		}
		base := Line{Version: v.Version, Component: comp.ID, Product: comp.Product, Description: describe(comp), Period: s.Period}
		before := len(r.inv.Lines)
		switch comp.Model {
		case contract.Flat:
			unr := r.prorate(price.Amount, days)
			l := base
			l.Key = r.key(v, comp.ID, KindRecurring, s.Start, "")
			l.Kind, l.Timing, l.Quantity = KindRecurring, v.Billing.Timing, decimal.NewFromInt(1)
			l.UnitPrice = &price.Amount
			l.Amount = r.roundPart(string(KindRecurring)+":"+comp.ID, unr)
			ex.Proration = r.proration(days)
			ex.Formula = fmt.Sprintf("%s x %d/%d days", price.Amount, days, r.bp.Nominal.Days())
			if ex.Proration == nil {
				ex.Formula = fmt.Sprintf("%s per period", price.Amount)
			}
			ex.Unrounded = unr
			l.Explanation = ex
			r.add(l)
		case contract.Seats:
			r.rateSeats(s, comp, price, base, ex)
		case contract.PerUnit, contract.Graduated, contract.Volume, contract.Package:
			r.rateUsage(s, comp, price, base, ex)
		case contract.Percentage:
			if err := r.ratePercentage(s, comp, price, base, ex); err != nil {
				return err
			}
		default:
			return fmt.Errorf("rate contract %s version %d: components[%d]: unknown price model %q", r.c.ID, v.Version, ci, comp.Model)
		}
		if comp.Discount != nil && applies(comp.Discount, s.Start) {
			charged := decimal.Zero
			for _, l := range r.inv.Lines[before:] {
				charged = charged.Add(l.Amount)
			}
			r.discount(s, comp.Discount, charged, base, fmt.Sprintf("%s.components[%d].discount", s.clause, ci), comp.ID)
		}
	}
	if v.Commit != nil {
		r.trueUp(s, startLine)
	}
	for i := range v.Discounts {
		d := &v.Discounts[i]
		if !applies(d, s.Start) {
			continue
		}
		sum := decimal.Zero
		for _, l := range r.inv.Lines[startLine:] {
			sum = sum.Add(l.Amount)
		}
		id := d.ID
		if id == "" {
			id = fmt.Sprintf("discounts[%d]", i)
		}
		base := Line{Version: v.Version, Description: "Invoice discount " + id, Period: s.Period}
		r.discount(s, d, sum, base, fmt.Sprintf("%s.discounts[%d]", s.clause, i), id)
	}
	r.drawCredits(s, startLine)
	return nil
}

func describe(c *contract.Component) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Product
}

func applies(d *contract.Discount, day contract.Date) bool {
	return (d.From.IsZero() || !day.Before(d.From)) && (d.To.IsZero() || day.Before(d.To))
}

// discount adds a negative line for a percent or fixed discount of base (never more than base).
func (r *rater) discount(s segment, d *contract.Discount, base decimal.Decimal, line Line, clause, id string) {
	if !base.IsPositive() {
		return
	}
	ex := Explanation{Clause: clause}
	var unr decimal.Decimal
	switch d.Kind {
	case contract.DiscountPercent:
		unr = base.Mul(d.Percent).DivRound(hundred, divPlaces)
		ex.Formula = fmt.Sprintf("%s%% of %s", d.Percent, base)
	case contract.DiscountFixed:
		unr = r.prorate(d.Amount, s.Days())
		ex.Proration = r.proration(s.Days())
		ex.Formula = fmt.Sprintf("fixed %s", d.Amount)
		if ex.Proration != nil {
			ex.Formula = fmt.Sprintf("fixed %s x %d/%d days", d.Amount, s.Days(), r.bp.Nominal.Days())
		}
		if unr.GreaterThan(base) {
			unr = base
			ex.Formula += fmt.Sprintf(", capped at the charge %s", base)
		}
	}
	line.Key = r.key(s.version, id, KindDiscount, s.Start, "")
	line.Kind, line.Timing = KindDiscount, contract.InArrears
	if line.Component != "" {
		line.Description = "Discount: " + line.Description
		if c, ok := s.version.Component(line.Component); ok && !c.Model.Usage() {
			line.Timing = s.version.Billing.Timing
		}
	}
	line.Quantity = decimal.NewFromInt(1)
	line.Amount = r.round(unr).Neg()
	ex.Unrounded = unr.Neg()
	line.Explanation = ex
	r.add(line)
}
