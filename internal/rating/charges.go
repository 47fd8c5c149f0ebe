package rating

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

func matches(comp *contract.Component, meter, group string, day contract.Date, s segment) bool {
	return meter == comp.Meter && (comp.Group == "" || group == comp.Group) && (day.IsZero() || s.Contains(day))
}

// rateUsage prices the metered quantity of a per_unit, graduated, volume or package component, after free units.
func (r *rater) rateUsage(s segment, comp *contract.Component, price contract.Price, l Line, ex Explanation) {
	metered := decimal.Zero
	for _, q := range r.u.Quantities {
		if matches(comp, q.Meter, q.Group, q.Date, s) {
			metered = metered.Add(q.Value)
		}
	}
	billable := metered
	if comp.FreeUnits.IsPositive() {
		left := comp.FreeUnits.Sub(r.free[comp.ID])
		used := decimal.Min(left, metered)
		if used.IsNegative() {
			used = decimal.Zero
		}
		r.free[comp.ID] = r.free[comp.ID].Add(used)
		billable = metered.Sub(used)
		m, f := metered, used
		ex.Metered, ex.FreeUnits = &m, &f
	}
	unr, tiers, formula, unit := usageCharge(comp.Model, billable, price)
	l.Key = r.key(s.version, comp.ID, KindUsage, s.Start, "")
	l.Kind, l.Timing, l.Quantity, l.UnitPrice = KindUsage, contract.InArrears, billable, unit
	l.Amount = r.round(unr)
	ex.Tiers, ex.Formula, ex.Unrounded = tiers, formula, unr
	l.Explanation = ex
	r.add(l)
}

// usageCharge prices a billable quantity under a usage model; it returns the unrounded amount, the tiers used,
// a formula and the single unit price when there is one.
func usageCharge(m contract.PriceModel, q decimal.Decimal, p contract.Price) (decimal.Decimal, []TierUse, string, *decimal.Decimal) {
	switch m {
	case contract.PerUnit:
		up := p.UnitPrice
		return PerUnitCharge(q, up), nil, fmt.Sprintf("%s x %s", q, up), &up
	case contract.Graduated:
		amt, tiers := GraduatedCharge(q, p.Tiers)
		return amt, tiers, tierFormula(tiers), nil
	case contract.Volume:
		amt, tiers := VolumeCharge(q, p.Tiers)
		if len(tiers) == 0 {
			return amt, nil, "0 units", nil
		}
		up := tiers[0].UnitPrice
		f := fmt.Sprintf("%s x %s (all units at tier %d)", q, up, tiers[0].Tier+1)
		if !tiers[0].FlatFee.IsZero() {
			f += fmt.Sprintf(" + flat %s", tiers[0].FlatFee)
		}
		return amt, tiers, f, &up
	case contract.Package:
		amt, blocks := PackageCharge(q, p.PackageSize, p.PackagePrice)
		return amt, nil, fmt.Sprintf("ceil(%s / %s) = %s packages x %s", q, p.PackageSize, blocks, p.PackagePrice), nil
	}
	return decimal.Zero, nil, "", nil
}

func tierFormula(ts []TierUse) string {
	if len(ts) == 0 {
		return "0 units"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("tier %d: %s x %s", t.Tier+1, t.Units, t.UnitPrice)
		if !t.FlatFee.IsZero() {
			parts[i] += fmt.Sprintf(" + flat %s", t.FlatFee)
		}
	}
	return strings.Join(parts, " + ")
}

// ratePercentage charges a percent of the customer's transaction volume, each transaction's fee clamped to
// [min_fee, max_fee]; aggregated quantities are accepted only when there is no per-transaction term.
func (r *rater) ratePercentage(s segment, comp *contract.Component, price contract.Price, l Line, ex Explanation) error {
	volume, fees := decimal.Zero, decimal.Zero
	n := 0
	for _, t := range r.u.Transactions {
		if matches(comp, t.Meter, t.Group, t.Date, s) {
			volume = volume.Add(t.Amount)
			fees = fees.Add(TransactionFee(t.Amount, price))
			n++
		}
	}
	aggregated := decimal.Zero
	for i, q := range r.u.Quantities {
		if matches(comp, q.Meter, q.Group, q.Date, s) {
			if !price.FixedFee.IsZero() || price.MinFee != nil || price.MaxFee != nil {
				return fmt.Errorf("rate contract %s: usage.quantities[%d]: component %s charges per transaction (fixed, min or max fee), so its volume must come as transactions", r.c.ID, i, comp.ID)
			}
			aggregated = aggregated.Add(q.Value)
		}
	}
	if !aggregated.IsZero() {
		volume = volume.Add(aggregated)
		fees = fees.Add(aggregated.Mul(price.Percent).DivRound(hundred, divPlaces))
	}
	pct := price.Percent
	l.Key = r.key(s.version, comp.ID, KindUsage, s.Start, "")
	l.Kind, l.Timing, l.Quantity, l.UnitPrice = KindUsage, contract.InArrears, volume, nil
	l.Amount = r.round(fees)
	ex.Formula = fmt.Sprintf("%s%% of %s", pct, volume)
	if n > 0 && (!price.FixedFee.IsZero() || price.MinFee != nil || price.MaxFee != nil) {
		ex.Formula = fmt.Sprintf("sum over %d transactions of (%s%% x amount + %s)", n, pct, price.FixedFee)
		if price.MinFee != nil {
			ex.Formula += fmt.Sprintf(", at least %s", price.MinFee)
		}
		if price.MaxFee != nil {
			ex.Formula += fmt.Sprintf(", at most %s", price.MaxFee)
		}
		ex.Formula += " each"
	}
	ex.Unrounded = fees
	l.Explanation = ex
	r.add(l)
	return nil
}

// seatsOn is the seat count of a seats component on day d: the latest change on or before d, else the contract's seats.
func (r *rater) seatsOn(comp *contract.Component, price contract.Price, d contract.Date) int64 {
	seats, at := price.Seats, contract.Date{}
	for _, c := range r.u.Seats {
		if c.Component == comp.ID && !c.Date.After(d) && (at.IsZero() || !c.Date.Before(at)) {
			seats, at = c.Seats, c.Date
		}
	}
	return seats
}

// rateSeats bills the seats held on the part period's first day (with the version's timing) and, when the count
// changes during the part period, a seat_change line (in arrears) prorated daily for each changed stretch.
func (r *rater) rateSeats(s segment, comp *contract.Component, price contract.Price, l Line, ex Explanation) {
	start := r.seatsOn(comp, price, s.Start)
	days := s.Days()
	nd := r.bp.Nominal.Days()
	seatsAmt := price.UnitPrice.Mul(decimal.NewFromInt(start))
	unr := r.prorate(seatsAmt, days)
	base := l
	l.Key = r.key(s.version, comp.ID, KindSeats, s.Start, "")
	l.Kind, l.Timing, l.Quantity = KindSeats, s.version.Billing.Timing, decimal.NewFromInt(start)
	up := price.UnitPrice
	l.UnitPrice = &up
	l.Amount = r.roundPart(string(KindSeats)+":"+comp.ID, unr)
	sx := ex
	sx.Proration = r.proration(days)
	sx.Formula = fmt.Sprintf("%d seats x %s", start, up)
	if sx.Proration != nil {
		sx.Formula += fmt.Sprintf(" x %d/%d days", days, nd)
	}
	sx.Unrounded = unr
	l.Explanation = sx
	r.add(l)

	// Stretches of constant seat count, cut at each change inside the part period.
	cuts := []contract.Date{s.Start}
	for _, c := range r.u.Seats {
		if c.Component == comp.ID && c.Date.After(s.Start) && c.Date.Before(s.End) {
			cuts = append(cuts, c.Date)
		}
	}
	if len(cuts) == 1 {
		return
	}
	sortDates(cuts)
	var stretches []SeatStretch
	total := decimal.Zero
	var parts []string
	for i, from := range cuts {
		if i > 0 && from.Equal(cuts[i-1]) {
			continue
		}
		to := s.End
		for _, c := range cuts[i+1:] {
			if c.After(from) {
				to = c
				break
			}
		}
		n := r.seatsOn(comp, price, from)
		delta := n - start
		d := from.DaysUntil(to)
		amt := price.UnitPrice.Mul(decimal.NewFromInt(delta)).Mul(decimal.NewFromInt(int64(d))).DivRound(decimal.NewFromInt(int64(nd)), divPlaces)
		stretches = append(stretches, SeatStretch{Period: Period{from, to}, Seats: n, Delta: delta, Amount: amt})
		if delta != 0 {
			total = total.Add(amt)
			parts = append(parts, fmt.Sprintf("%+d x %s x %d/%d", delta, up, d, nd))
		}
	}
	end := r.seatsOn(comp, price, s.End.AddDays(-1))
	c := base
	c.Key = r.key(s.version, comp.ID, KindSeatChange, s.Start, "")
	c.Kind, c.Timing, c.Quantity, c.UnitPrice = KindSeatChange, contract.InArrears, decimal.NewFromInt(end-start), &up
	c.Description = "Seat changes: " + base.Description
	c.Amount = r.roundPart(string(KindSeatChange)+":"+comp.ID, total)
	cx := ex
	cx.Proration = &Proration{Days: days, PeriodDays: nd, Stretches: stretches}
	cx.Formula = "seat delta x unit price x days/period days: " + strings.Join(parts, " + ")
	if len(parts) == 0 {
		cx.Formula = "no change from the starting seat count"
	}
	cx.Unrounded = total
	c.Explanation = cx
	r.add(c)
}

func sortDates(ds []contract.Date) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].Before(ds[j-1]); j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// trueUp bills the shortfall of the covered charges in this part period below the (prorated) commit.
func (r *rater) trueUp(s segment, startLine int) {
	v := s.version
	cm := v.Commit
	covered := map[string]bool{}
	for _, id := range cm.Components {
		covered[id] = true
	}
	if len(cm.Components) == 0 {
		for _, c := range v.Components {
			if c.Model.Usage() {
				covered[c.ID] = true
			}
		}
	}
	spent := decimal.Zero
	for _, l := range r.inv.Lines[startLine:] {
		if covered[l.Component] {
			spent = spent.Add(l.Amount)
		}
	}
	commit := r.prorate(cm.Amount, s.Days())
	short := commit.Sub(spent)
	if !short.IsPositive() {
		return
	}
	product := cm.Product
	if product == "" {
		product = "COMMIT"
	}
	ex := Explanation{Clause: s.clause + ".commit", Unrounded: short, Proration: r.proration(s.Days())}
	ex.Formula = fmt.Sprintf("commit %s - covered charges %s", cm.Amount, spent)
	if ex.Proration != nil {
		ex.Formula = fmt.Sprintf("commit %s x %d/%d days - covered charges %s", cm.Amount, s.Days(), r.bp.Nominal.Days(), spent)
	}
	r.add(Line{
		Key: r.key(v, "commit", KindTrueUp, s.Start, ""), Kind: KindTrueUp, Version: v.Version, Product: product,
		Description: "Minimum commit true-up", Period: s.Period, Timing: contract.InArrears,
		Quantity: decimal.NewFromInt(1), Amount: r.round(short), Explanation: ex,
	})
}
