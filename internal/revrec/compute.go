package revrec

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// monthly is an amount per month.
type monthly map[Month]decimal.Decimal

func (m monthly) add(k Month, v decimal.Decimal) { m[k] = m[k].Add(v) }

func (m monthly) sum() decimal.Decimal {
	s := decimal.Zero
	for _, v := range m {
		s = s.Add(v)
	}
	return s
}

// plan is what the current version will recognize for one allocable obligation from its effective date on.
type plan struct {
	from, to time.Time       // ratable: [from, to); point in time: from is the delivery date (zero while undelivered)
	amount   decimal.Decimal // allocated amount still to recognize
	ratable  bool
}

// track is an obligation's recognition: fixed months before the current version, and the current plan.
type track struct {
	ob      Obligation
	pattern Pattern
	done    monthly // revenue fixed by earlier versions (and catch-ups)
	catchUp monthly
	plan    plan
}

// Compute builds an arrangement's revenue schedule; invalid input returns an *InvalidArrangement.
func Compute(a Arrangement, t *SSPTable) (*Schedule, error) {
	if err := Validate(a, t); err != nil {
		return nil, err
	}
	cur := a.Currency
	s := &Schedule{ArrangementID: a.ID, CustomerID: a.CustomerID, EntityID: a.EntityID, Currency: cur}
	// A delivery date is a fact, not a term: the last one recorded for an obligation in any version applies to all.
	delivered := map[string]time.Time{}
	for _, obs := range append([][]Obligation{a.Obligations}, amendmentObligations(a.Amendments)...) {
		for _, o := range obs {
			if !o.DeliveredOn.IsZero() {
				delivered[o.ID] = dateOf(o.DeliveredOn)
			}
		}
	}
	tracks := map[string]*track{}
	var order []string
	latest := func(obs []Obligation) {
		for _, o := range obs {
			o.Start, o.End, o.DeliveredOn = dateOf(o.Start), dateOf(o.End), delivered[o.ID]
			tr, ok := tracks[o.ID]
			if !ok {
				tr = &track{done: monthly{}, catchUp: monthly{}}
				tracks[o.ID] = tr
				order = append(order, o.ID)
			}
			tr.ob, tr.pattern = o, patternOf(o, t)
		}
	}

	// The original version: allocate the whole transaction price by relative SSP of whole obligations.
	latest(a.Obligations)
	v, err := allocateVersion(a.Obligations, a.Variable, a.Variable, tracks, t, cur, time.Time{}, "", decimal.Zero)
	if err != nil {
		return nil, err
	}
	s.Versions = append(s.Versions, v)

	prevVars := a.Variable
	for i, am := range a.Amendments {
		e := dateOf(am.Effective)
		recognized := decimal.Zero
		for _, id := range order {
			tr := tracks[id]
			if tr.pattern == PatternConsumption {
				continue
			}
			if err := tr.cut(e, cur); err != nil {
				return nil, fmt.Errorf("amendments[%d]: %w", i, err)
			}
			recognized = recognized.Add(tr.done.sum())
		}
		latest(am.Obligations)
		var v VersionResult
		switch am.Method {
		case MethodProspective:
			var carve []VariableConsideration
			seen := map[string]bool{}
			for _, pv := range prevVars {
				seen[pv.ID] = true
			}
			for _, nv := range am.Variable {
				if nv.ObligationID != "" && !seen[nv.ID] {
					carve = append(carve, nv)
				}
			}
			v, err = allocateVersion(am.Obligations, am.Variable, carve, tracks, t, cur, e, am.Method, recognized)
		case MethodCumulativeCatchUp:
			v, err = allocateVersion(am.Obligations, am.Variable, am.Variable, tracks, t, cur, e, am.Method, decimal.Zero)
		}
		if err != nil {
			return nil, &InvalidArrangement{Subject: "arrangement " + a.ID,
				Problems: []Problem{{Field: fmt.Sprintf("amendments[%d]", i), Reason: err.Error()}}}
		}
		v.AmendmentID, v.Method, v.Reason = am.ID, am.Method, am.Reason
		s.Versions = append(s.Versions, v)
		prevVars = am.Variable
	}

	// Materialize the current plans, usage and breakage, then billings, into dense monthly lines.
	revenue, catchUp, breakage, billed := map[string]monthly{}, map[string]monthly{}, map[string]monthly{}, map[string]monthly{}
	first, last := Month{}, Month{}
	span := func(m Month) {
		if first.IsZero() || m.Before(first) {
			first = m
		}
		if last.IsZero() || m.After(last) {
			last = m
		}
	}
	for _, id := range order {
		tr := tracks[id]
		rev := monthly{}
		brk := monthly{}
		for m, x := range tr.done {
			rev.add(m, x)
		}
		if tr.pattern == PatternConsumption {
			usage(tr.ob, a.Consumption, rev, brk)
		} else {
			future, err := tr.plan.months(cur)
			if err != nil {
				return nil, fmt.Errorf("obligation %q: %w", id, err)
			}
			for m, x := range future {
				rev.add(m, x)
			}
		}
		revenue[id], catchUp[id], breakage[id], billed[id] = rev, tr.catchUp, brk, monthly{}
		for _, mm := range []monthly{rev, brk} {
			for m := range mm {
				span(m)
			}
		}
		if !tr.ob.Start.IsZero() {
			span(MonthOf(tr.ob.Start))
		}
		if !tr.ob.End.IsZero() {
			span(MonthOf(tr.ob.End.AddDate(0, 0, -1)))
		}
	}
	for _, b := range a.Billings {
		m := MonthOf(b.Date)
		billed[b.ObligationID].add(m, b.Amount)
		span(m)
	}
	for _, id := range order {
		tr := tracks[id]
		cumRec, cumBill := decimal.Zero, decimal.Zero
		for _, m := range MonthsBetween(first, last) {
			l := Line{ArrangementID: a.ID, CustomerID: a.CustomerID, EntityID: a.EntityID, ObligationID: id,
				Product: tr.ob.Product, Kind: tr.ob.Kind, Currency: cur, Month: m,
				Revenue: revenue[id][m], CatchUp: catchUp[id][m], Breakage: breakage[id][m], Billed: billed[id][m]}
			cumRec, cumBill = cumRec.Add(l.Recognized()), cumBill.Add(l.Billed)
			l.Deferred, l.Unbilled = split(cumBill.Sub(cumRec))
			s.Lines = append(s.Lines, l)
		}
	}
	return s, nil
}

// allocateVersion allocates a version's consideration and sets each allocable obligation's plan from e on.
// The original version (method empty, e zero) allocates the whole price by SSP of whole obligations.
// A prospective amendment allocates the remaining consideration (price less everything recognized before
// e) by SSP of what remains. A cumulative catch-up re-allocates the whole price and recognizes the
// difference in progress at e. Variable consideration in directs goes wholly to its obligation.
func allocateVersion(obs []Obligation, vars, directs []VariableConsideration, tracks map[string]*track,
	t *SSPTable, cur money.Currency, e time.Time, method Method, recognized decimal.Decimal) (VersionResult, error) {
	v := VersionResult{Effective: e}
	direct := map[string]decimal.Decimal{}
	tp := decimal.Zero
	for _, o := range obs {
		tp = tp.Add(o.Price)
	}
	pool := tp
	for _, x := range vars {
		tp = tp.Add(x.Amount)
		pool = pool.Add(x.Amount)
	}
	v.TransactionPrice = tp
	prospective := method == MethodProspective
	for _, x := range directs {
		if x.ObligationID != "" {
			direct[x.ObligationID] = direct[x.ObligationID].Add(x.Amount)
			pool = pool.Sub(x.Amount)
		}
	}
	pool = pool.Sub(recognized)
	var ids []string
	var weights []decimal.Decimal
	for _, o := range obs {
		tr := tracks[o.ID]
		if tr.pattern == PatternConsumption {
			continue
		}
		o = tr.ob
		full, err := t.SSP(o, cur)
		if err != nil {
			return v, err
		}
		w := full
		if prospective {
			w = remainingSSP(tr, full, e)
		}
		ids = append(ids, o.ID)
		weights = append(weights, w)
	}
	v.Allocated = pool
	for _, x := range direct {
		v.Allocated = v.Allocated.Add(x)
	}
	if len(ids) == 0 {
		if !pool.IsZero() {
			return v, fmt.Errorf("consideration %s has no obligation to go to", pool)
		}
		return v, nil
	}
	var parts []decimal.Decimal
	if sumOf(weights).IsPositive() {
		var err error
		if parts, err = money.Allocate(pool, weights, cur); err != nil {
			return v, fmt.Errorf("allocate %s by SSP: %w", pool, err)
		}
	} else if !pool.IsZero() {
		return v, fmt.Errorf("remaining consideration %s has no remaining obligation to go to", pool)
	} else {
		parts = make([]decimal.Decimal, len(ids))
	}
	for i, id := range ids {
		tr := tracks[id]
		o := tr.ob
		alloc := parts[i].Add(direct[id])
		al := Allocation{ObligationID: id, Product: o.Product, SSP: weights[i], Allocated: alloc}
		from := o.Start
		if !e.IsZero() {
			from = maxTime(o.Start, e)
		}
		switch {
		case tr.pattern == PatternPointInTime:
			delivered := !o.DeliveredOn.IsZero()
			if !e.IsZero() && delivered && o.DeliveredOn.Before(e) {
				// Delivered under an earlier version: prospectively nothing remains; with a catch-up the
				// difference to the new allocation is recognized now.
				if !prospective {
					al.CatchUp = alloc.Sub(tr.done.sum())
				}
				tr.plan = plan{}
			} else {
				tr.plan = plan{from: o.DeliveredOn, amount: alloc}
			}
		case prospective || e.IsZero():
			tr.plan = plan{from: from, to: o.End, amount: alloc, ratable: true}
		default:
			// Cumulative catch-up: progress to date under the new allocation, less what was recognized.
			target, rest, err := splitAt(alloc, o.Start, o.End, e, cur)
			if err != nil {
				return v, err
			}
			al.CatchUp = target.Sub(tr.done.sum())
			tr.plan = plan{from: from, to: o.End, amount: rest, ratable: true}
		}
		if !al.CatchUp.IsZero() {
			m := MonthOf(e)
			tr.done.add(m, al.CatchUp)
			tr.catchUp.add(m, al.CatchUp)
		}
		v.Allocations = append(v.Allocations, al)
	}
	return v, nil
}

// remainingSSP is the SSP of what is left of an obligation from e: the unexpired share of a ratable
// obligation, the whole of an undelivered one.
func remainingSSP(tr *track, full decimal.Decimal, e time.Time) decimal.Decimal {
	o := tr.ob
	if tr.pattern == PatternPointInTime {
		if !o.DeliveredOn.IsZero() && o.DeliveredOn.Before(e) {
			return decimal.Zero
		}
		return full
	}
	total := daysBetween(o.Start, o.End)
	left := daysBetween(maxTime(o.Start, e), o.End)
	if total == 0 || left == 0 {
		return decimal.Zero
	}
	return full.Mul(decimal.NewFromInt(left)).DivRound(decimal.NewFromInt(total), 12)
}

// splitAt divides amount over [start, end) by days into the part before e and the part from e on.
func splitAt(amount decimal.Decimal, start, end, e time.Time, cur money.Currency) (before, after decimal.Decimal, err error) {
	db := daysBetween(start, minTime(e, end))
	da := daysBetween(maxTime(start, e), end)
	switch {
	case da == 0:
		return amount, decimal.Zero, nil
	case db == 0:
		return decimal.Zero, amount, nil
	}
	parts, err := money.Allocate(amount, []decimal.Decimal{decimal.NewFromInt(db), decimal.NewFromInt(da)}, cur)
	if err != nil {
		return decimal.Zero, decimal.Zero, fmt.Errorf("split %s at %s: %w", amount, e.Format(time.DateOnly), err)
	}
	return parts[0], parts[1], nil
}

// cut ends the track's current plan at e: months before e's month are fixed as planned, e's month keeps
// the days before e (split by days), and the rest is dropped for the next version to re-plan.
func (tr *track) cut(e time.Time, cur money.Currency) error {
	p := tr.plan
	tr.plan = plan{}
	if !p.ratable {
		if !p.from.IsZero() && p.from.Before(e) {
			tr.done.add(MonthOf(p.from), p.amount)
		}
		return nil
	}
	months, err := p.months(cur)
	if err != nil {
		return err
	}
	em := MonthOf(e)
	for m, x := range months {
		switch {
		case m.Before(em):
			tr.done.add(m, x)
		case m == em:
			from, to := maxTime(p.from, em.Start()), minTime(p.to, em.End())
			before, _, err := splitAt(x, from, to, e, cur)
			if err != nil {
				return err
			}
			tr.done.add(m, before)
		}
	}
	return nil
}

// months spreads a plan over calendar months: by days for a ratable plan (largest remainder, so the months
// sum exactly to the amount), in the delivery month for a point in time, nothing while undelivered.
func (p plan) months(cur money.Currency) (monthly, error) {
	out := monthly{}
	if !p.ratable {
		if !p.from.IsZero() {
			out.add(MonthOf(p.from), p.amount)
		}
		return out, nil
	}
	return ratably(p.amount, p.from, p.to, cur)
}

// ratably splits amount over the calendar months of [from, to) in proportion to the days in each.
func ratably(amount decimal.Decimal, from, to time.Time, cur money.Currency) (monthly, error) {
	out := monthly{}
	if !to.After(from) {
		if !amount.IsZero() {
			return nil, fmt.Errorf("%s to recognize over an empty period %s..%s", amount, from.Format(time.DateOnly), to.Format(time.DateOnly))
		}
		return out, nil
	}
	months := MonthsBetween(MonthOf(from), MonthOf(to.AddDate(0, 0, -1)))
	weights := make([]decimal.Decimal, len(months))
	for i, m := range months {
		weights[i] = decimal.NewFromInt(daysBetween(maxTime(from, m.Start()), minTime(to, m.End())))
	}
	parts, err := money.Allocate(amount, weights, cur)
	if err != nil {
		return nil, fmt.Errorf("spread %s by days: %w", amount, err)
	}
	for i, m := range months {
		out.add(m, parts[i])
	}
	return out, nil
}

// usage recognizes consumption as invoiced and commitment shortfalls as breakage at each period's end
// (the last period of a periodic commitment may be shorter; its commitment is not prorated).
func usage(o Obligation, cons []Consumption, rev, brk monthly) {
	for _, c := range cons {
		if c.ObligationID == o.ID {
			rev.add(c.Month, c.Amount)
		}
	}
	c := o.Commitment
	if c == nil {
		return
	}
	lastMonth := MonthOf(o.End.AddDate(0, 0, -1))
	months := MonthsBetween(MonthOf(o.Start), lastMonth)
	n := c.Period.months()
	if n == 0 {
		n = len(months) // a term commitment is one period over the whole service period
	}
	for i := 0; i < len(months); i += n {
		period := months[i:min(i+n, len(months))]
		used := decimal.Zero
		for _, m := range period {
			used = used.Add(rev[m])
		}
		if short := c.Amount.Sub(used); short.IsPositive() {
			brk.add(period[len(period)-1], short)
		}
	}
}

func amendmentObligations(ams []Amendment) [][]Obligation {
	out := make([][]Obligation, len(ams))
	for i, am := range ams {
		out[i] = am.Obligations
	}
	return out
}

func sumOf(xs []decimal.Decimal) decimal.Decimal {
	s := decimal.Zero
	for _, x := range xs {
		s = s.Add(x)
	}
	return s
}
