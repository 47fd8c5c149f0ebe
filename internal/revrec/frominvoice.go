package revrec

import (
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/money"
)

// FromInvoices adds the billings and usage consumption of a contract's finalized invoices to its arrangement
// (built by FromContractVersions), replacing any it had:
//
//   - each line is billed to the obligation of its component (a usage component gathered under the minimum
//     commit, and a commit true-up line, to CommitObligationID) on the invoice's issue date;
//   - a line without a component (an invoice-level discount or credit) is spread over the invoice's other
//     lines by amount, largest remainder: a credit over its usage charges, a discount over all its charges
//     (rating computes it on the whole subtotal);
//   - the net amount of each usage line is that obligation's consumption, spread over the months of the
//     line's period by days (a monthly invoice puts it all in its month); a commit true-up is billed but
//     is no consumption (Compute recognizes the shortfall as breakage).
//
// skip reports lines whose revenue the invoice itself recognized (the right-to-invoice expedient posted to
// revenue at finalization); they are neither billings nor consumption. Lines that cannot be placed are
// reported all at once as an *InvalidArrangement naming invoice and line.
func FromInvoices(a *Arrangement, invs []invoice.Invoice, skip func(invoice.Invoice, invoice.Line) bool) error {
	obs := map[string]Obligation{}
	for _, o := range a.Obligations {
		obs[o.ID] = o
	}
	for _, am := range a.Amendments {
		for _, o := range am.Obligations {
			obs[o.ID] = o
		}
	}
	sorted := append([]invoice.Invoice(nil), invs...)
	sort.Slice(sorted, func(i, j int) bool {
		if !sorted[i].IssueDate.Time().Equal(sorted[j].IssueDate.Time()) {
			return sorted[i].IssueDate.Before(sorted[j].IssueDate)
		}
		return sorted[i].ID < sorted[j].ID
	})
	var ps problems
	type key struct {
		ob    string
		month int
	}
	consumed := map[key]decimal.Decimal{}
	var billings []Billing
	for _, inv := range sorted {
		subject := fmt.Sprintf("invoices[%s]", inv.ID)
		if inv.Currency != a.Currency {
			ps.add(subject+".currency", fmt.Sprintf("%s differs from the contract's %s", inv.Currency, a.Currency))
			continue
		}
		placed, loose := []placedLine{}, []invoice.Line{}
		for _, l := range inv.Lines {
			if l.Amount.IsZero() || (skip != nil && skip(inv, l)) {
				continue
			}
			field := fmt.Sprintf("%s.lines[%d]", subject, l.No)
			ob, ok := obligationOf(obs, l)
			switch {
			case ok:
				placed = append(placed, placedLine{line: l, ob: ob})
			case l.ComponentID == "" && l.Reduces():
				loose = append(loose, l)
			default:
				ps.add(field+".component_id", fmt.Sprintf("component %q (%s) is not an obligation of contract %s", l.ComponentID, l.Kind, a.ID))
			}
		}
		for _, l := range loose {
			var err error
			if placed, err = spread(placed, l, a.Currency); err != nil {
				ps.add(fmt.Sprintf("%s.lines[%d]", subject, l.No), err.Error())
			}
		}
		billed := map[string]decimal.Decimal{}
		var order []string
		for _, p := range placed {
			if _, seen := billed[p.ob.ID]; !seen {
				order = append(order, p.ob.ID)
			}
			billed[p.ob.ID] = billed[p.ob.ID].Add(p.amount())
			if p.ob.Kind != KindUsage || p.line.Kind == lineKindTrueUp {
				continue // a fee, or the shortfall billed: that is breakage, not consumption
			}
			months, err := byDays(p.amount(), p.period(inv), a.Currency)
			if err != nil {
				ps.add(fmt.Sprintf("%s.lines[%d].period", subject, p.line.No), err.Error())
				continue
			}
			for _, m := range months {
				k := key{p.ob.ID, m.month.index()}
				consumed[k] = consumed[k].Add(m.amount)
			}
		}
		for _, id := range order {
			if !billed[id].IsZero() {
				billings = append(billings, Billing{ID: inv.ID, ObligationID: id, Date: inv.IssueDate.Time(), Amount: billed[id]})
			}
		}
	}
	if err := ps.err("invoices of contract " + a.ID); err != nil {
		return err
	}
	keys := make([]key, 0, len(consumed))
	for k := range consumed {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ob != keys[j].ob {
			return keys[i].ob < keys[j].ob
		}
		return keys[i].month < keys[j].month
	})
	a.Consumption = nil
	for _, k := range keys {
		if v := consumed[k]; !v.IsZero() {
			a.Consumption = append(a.Consumption, Consumption{ObligationID: k.ob, Month: monthFromIndex(k.month), Amount: v})
		}
	}
	a.Billings = billings
	return nil
}

// lineKindTrueUp is the invoice line kind of a minimum-commit shortfall billed (rating.KindTrueUp).
const lineKindTrueUp = "commit_true_up"

// placedLine is an invoice line attributed to an obligation, plus its share of invoice-level reductions.
type placedLine struct {
	line  invoice.Line
	ob    Obligation
	share decimal.Decimal
}

func (p placedLine) amount() decimal.Decimal { return p.line.Amount.Add(p.share) }

// period is the days the line covers: its own period, else the invoice's.
func (p placedLine) period(inv invoice.Invoice) [2]time.Time {
	if !p.line.PeriodStart.IsZero() && p.line.PeriodStart.Before(p.line.PeriodEnd) {
		return [2]time.Time{p.line.PeriodStart.Time(), p.line.PeriodEnd.Time()}
	}
	return [2]time.Time{inv.PeriodStart.Time(), inv.PeriodEnd.Time()}
}

// obligationOf finds the obligation an invoice line bills.
func obligationOf(obs map[string]Obligation, l invoice.Line) (Obligation, bool) {
	if l.ComponentID != "" {
		if o, ok := obs[l.ComponentID]; ok {
			return o, true
		}
	}
	// A usage component covered by the minimum commit, or the commit true-up itself.
	if c, ok := obs[CommitObligationID]; ok && (l.ComponentID != "" || l.Kind == lineKindTrueUp) {
		return c, true
	}
	return Obligation{}, false
}

// spread shares an invoice-level reduction over the placed lines by amount: a credit over the usage charges (never
// a commit true-up), a discount over every charge, as rating computes it on the whole subtotal.
func spread(placed []placedLine, l invoice.Line, cur money.Currency) ([]placedLine, error) {
	pick := func(usage bool) []int {
		var idx []int
		for i, p := range placed {
			if p.line.Amount.IsPositive() && (p.ob.Kind == KindUsage && p.line.Kind != lineKindTrueUp) == usage {
				idx = append(idx, i)
			}
		}
		return idx
	}
	var idx []int
	if l.Kind == invoice.LineKindCredit {
		idx = pick(true)
	}
	if len(idx) == 0 {
		idx = append(pick(true), pick(false)...)
		sort.Ints(idx)
	}
	if len(idx) == 0 {
		return placed, fmt.Errorf("%s of %s has no charge on the invoice to reduce", l.Kind, l.Amount)
	}
	weights := make([]decimal.Decimal, len(idx))
	for i, j := range idx {
		weights[i] = placed[j].line.Amount
	}
	parts, err := money.Allocate(l.Amount, weights, cur)
	if err != nil {
		return placed, fmt.Errorf("spread %s: %w", l.Kind, err)
	}
	for i, j := range idx {
		placed[j].share = placed[j].share.Add(parts[i])
	}
	return placed, nil
}

type monthAmount struct {
	month  Month
	amount decimal.Decimal
}

// byDays spreads amount over the calendar months of [from, to) in proportion to their days.
func byDays(amount decimal.Decimal, period [2]time.Time, cur money.Currency) ([]monthAmount, error) {
	from, to := dateOf(period[0]), dateOf(period[1])
	if !from.Before(to) {
		return nil, fmt.Errorf("period %s to %s is empty", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	var out []monthAmount
	var weights []decimal.Decimal
	for m := MonthOf(from); m.Start().Before(to); m = m.Next() {
		days := daysBetween(maxTime(from, m.Start()), minTime(to, m.End()))
		out = append(out, monthAmount{month: m})
		weights = append(weights, decimal.NewFromInt(days))
	}
	sign := decimal.NewFromInt(1)
	if amount.IsNegative() {
		sign = sign.Neg()
	}
	parts, err := money.Allocate(amount.Mul(sign), weights, cur)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].amount = parts[i].Mul(sign)
	}
	return out, nil
}

// monthFromIndex inverts Month.index.
func monthFromIndex(i int) Month { return Month{Year: i / 12, Month: time.Month(i%12 + 1)} }
