package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/rating"
	"github.com/revhub/revhub/internal/usage"
)

// lateUsage picks the customer's pending late readings that this cycle bills: readings of a meter
// that one of the contract's usage components prices by quantity (SUM or COUNT meters; not a
// percentage of volume), dated in an earlier billing period of the contract whose cycle invoice
// was issued without a commit true-up, credit or discount (priceAdjusted). It returns them as the
// rating engine's late usage, one entry per period, meter and group, with what that period already
// billed (its invoice line plus late readings applied since, less the component's free units) and
// the free units it left unused, and the readings to mark applied together with the draft. Readings
// it does not pick stay pending.
func (a *Billing) lateUsage(ctx context.Context, q db.Querier, cy cycle, meters *usage.MeterSet) ([]rating.LateUsage, []usage.AdjustmentRef, error) {
	subject := cy.version.Customer.ExternalID
	pending, err := usage.PendingAdjustments(ctx, q, subject)
	if err != nil || len(pending) == 0 {
		return nil, nil, err
	}
	type groupKey struct {
		start        contract.Date
		meter, group string
	}
	type group struct {
		lu      rating.LateUsage
		invoice invoice.Invoice
		version contract.Version
		groupBy string
	}
	groups := map[groupKey]*group{}
	invoices := map[contract.Date]*invoice.Invoice{} // by period start; nil: not billable here
	var refs []usage.AdjustmentRef
	for _, adj := range pending {
		if !adj.EventTime.Before(cy.start) {
			continue
		}
		if m := meters.Get(adj.Meter); m == nil || (m.Aggregation != usage.Sum && m.Aggregation != usage.Count) {
			continue
		}
		bp, err := rating.PeriodOn(cy.contract, contract.DateOf(adj.EventTime))
		if err != nil || !bp.Period.End.After(bp.Period.Start) || bp.Period.End.After(cy.period.Start) {
			continue // not in one of this contract's earlier periods
		}
		v, ok := cy.contract.VersionOn(bp.Period.Start)
		if !ok {
			continue
		}
		cm, ok := v.MeterByID(adj.Meter)
		if !ok {
			continue
		}
		grp, ok := lateGroup(v, adj.Meter, adj.Groups[cm.GroupBy])
		if !ok {
			continue
		}
		inv, seen := invoices[bp.Period.Start]
		if !seen {
			got, err := invoice.GetByKey(ctx, q, invoice.CycleKey(cy.contract.ID, invoice.DateOf(bp.Period.Start.Time()), invoice.DateOf(bp.Period.End.Time())))
			switch {
			case errors.Is(err, invoice.ErrNotFound):
			case err != nil:
				return nil, nil, fmt.Errorf("late usage: invoice of %s: %w", bp.Period, err)
			case got.Status.Numbered() && !priceAdjusted(got):
				inv = &got
			}
			invoices[bp.Period.Start] = inv
		}
		if inv == nil {
			continue // not invoiced (yet), or held for review: the reading stays pending
		}
		k := groupKey{bp.Period.Start, adj.Meter, grp}
		g := groups[k]
		if g == nil {
			g = &group{lu: rating.LateUsage{Period: bp.Period, Meter: adj.Meter, Group: grp, Additional: decimal.Zero, Reference: inv.Number},
				invoice: *inv, version: v, groupBy: cm.GroupBy}
			groups[k] = g
		}
		g.lu.Additional = g.lu.Additional.Add(adj.Value)
		refs = append(refs, usage.AdjustmentRef{Key: adj.Key, Meter: adj.Meter})
	}
	keys := make([]groupKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].start != keys[j].start {
			return keys[i].start.Before(keys[j].start)
		}
		if keys[i].meter != keys[j].meter {
			return keys[i].meter < keys[j].meter
		}
		return keys[i].group < keys[j].group
	})
	type periodMeter struct {
		start contract.Date
		meter string
	}
	applied := map[periodMeter][]usage.Adjustment{} // late readings applied since, shared by the meter's groups
	out := make([]rating.LateUsage, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		metered := invoicedUsage(g.invoice, k.meter, k.group)
		free := freeUnits(g.version, k.meter, k.group)
		pm := periodMeter{k.start, k.meter}
		prior, read := applied[pm]
		if !read {
			if prior, err = usage.AppliedAdjustments(ctx, q, subject, k.meter, g.lu.Period.Start.Time(), g.lu.Period.End.Time()); err != nil {
				return nil, nil, err
			}
			applied[pm] = prior
		}
		for _, p := range prior {
			if grp, ok := lateGroup(g.version, k.meter, p.Groups[g.groupBy]); ok && grp == k.group {
				metered = metered.Add(p.Value)
			}
		}
		g.lu.Billed = decimal.Max(metered.Sub(free), decimal.Zero)
		g.lu.FreeLeft = decimal.Max(free.Sub(metered), decimal.Zero)
		out = append(out, g.lu)
	}
	return out, refs, nil
}

// lateGroup returns the group under which v's usage components (other than a percentage of
// volume, which the rating engine's late usage does not take) price a reading of meter whose
// group value is value: value itself when a component prices that group, "" when one prices the
// meter as a whole; ok is false when none prices it.
func lateGroup(v contract.Version, meter, value string) (group string, ok bool) {
	whole := false
	for _, comp := range v.Components {
		if !comp.Model.Usage() || comp.Model == contract.Percentage || comp.Meter != meter {
			continue
		}
		if comp.Group != "" && comp.Group == value {
			return value, true
		}
		whole = whole || comp.Group == ""
	}
	return "", whole
}

// freeUnits is the period's free-unit allowance of the component of v that prices meter for group.
func freeUnits(v contract.Version, meter, group string) decimal.Decimal {
	for _, comp := range v.Components {
		if comp.Model.Usage() && comp.Model != contract.Percentage && comp.Meter == meter && comp.Group == group {
			return comp.FreeUnits
		}
	}
	return decimal.Zero
}

// invoicedUsage returns the metered quantity (before free units) of the usage lines of inv for
// meter and group.
func invoicedUsage(inv invoice.Invoice, meter, group string) decimal.Decimal {
	metered := decimal.Zero
	for _, l := range inv.Lines {
		if l.Kind != string(rating.KindUsage) {
			continue
		}
		ex, q, err := usageLine(l)
		if err != nil || ex.Meter != meter || ex.Group != group {
			continue
		}
		metered = metered.Add(q)
	}
	return metered
}

// usageLine returns a usage line's explanation and the quantity it metered, before free units
// (the line's quantity when the explanation does not say).
func usageLine(l invoice.Line) (rating.Explanation, decimal.Decimal, error) {
	var ex rating.Explanation
	if err := json.Unmarshal(l.Explanation, &ex); err != nil {
		return ex, decimal.Zero, err
	}
	if ex.Metered != nil {
		return ex, *ex.Metered, nil
	}
	return ex, l.Quantity, nil
}

// priceAdjusted reports whether inv carries a minimum-commit true-up, a credit drawdown or a
// discount: a late usage line, the marginal usage charge alone, would then bill more than one
// complete invoice would have, so the period's late readings are held (pending) for review.
func priceAdjusted(inv invoice.Invoice) bool {
	for _, l := range inv.Lines {
		switch rating.LineKind(l.Kind) {
		case rating.KindTrueUp:
			if l.Amount.IsPositive() {
				return true
			}
		case rating.KindCredit, rating.KindDiscount:
			if !l.Amount.IsZero() {
				return true
			}
		}
	}
	return false
}
