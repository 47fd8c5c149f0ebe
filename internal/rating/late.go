package rating

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

// rateLate bills usage that arrived after its period was invoiced: under the version and prices of that period,
// the line is round(charge(billed + additional)) - round(charge(billed)), so the two invoices together charge
// exactly what one complete invoice would have.
func (r *rater) rateLate() error {
	for i, lu := range r.u.Late {
		v := versionOn(r.c, lu.Period.Start)
		if v == nil {
			return fmt.Errorf("rate contract %s: usage.late[%d].period: no version in force on %s", r.c.ID, i, lu.Period.Start)
		}
		found := false
		for ci := range v.Components {
			comp := &v.Components[ci]
			if !comp.Model.Usage() || comp.Model == contract.Percentage || comp.Meter != lu.Meter || (comp.Group != "" && comp.Group != lu.Group) {
				continue
			}
			found = true
			price, ramp := comp.PriceOn(lu.Period.Start)
			extra := decimal.Max(lu.Additional.Sub(lu.FreeLeft), decimal.Zero)
			oldU, _, _, _ := usageCharge(comp.Model, lu.Billed, price)
			newU, _, f, _ := usageCharge(comp.Model, lu.Billed.Add(extra), price)
			amt := r.round(newU).Sub(r.round(oldU))
			ex := Explanation{Clause: fmt.Sprintf("v%d.components[%d]", v.Version, ci), Model: comp.Model, Meter: comp.Meter, Group: lu.Group}
			if ramp >= 0 {
				rp := ramp
				ex.Ramp = &rp
				ex.Clause += fmt.Sprintf(".ramps[%d]", ramp)
			}
			late := lu.Additional.String() + " late"
			if lu.FreeLeft.IsPositive() {
				late = fmt.Sprintf("(%s late - %s free left)", lu.Additional, lu.FreeLeft)
			}
			ex.Formula = fmt.Sprintf("round(%s billed + %s: %s) - round(%s billed: %s)", lu.Billed, late, f, lu.Billed, oldU)
			ex.Unrounded = newU.Sub(oldU)
			desc := "Late usage: " + describe(comp)
			if lu.Reference != "" {
				desc += " (" + lu.Reference + ")"
			}
			r.add(Line{
				Key: r.key(v, comp.ID, KindLateUsage, r.bp.Start, lateID(lu, i)), Kind: KindLateUsage, Version: v.Version,
				Component: comp.ID, Product: comp.Product, Description: desc, Period: lu.Period, Timing: contract.InArrears,
				Quantity: lu.Additional, Amount: amt, Explanation: ex,
			})
		}
		if !found {
			return fmt.Errorf("rate contract %s: usage.late[%d].meter: no usage component of version %d prices meter %q group %q", r.c.ID, i, v.Version, lu.Meter, lu.Group)
		}
	}
	return nil
}

// lateID identifies a late usage entry in its line key: its period start and reference, else its position.
func lateID(lu LateUsage, i int) string {
	if lu.Reference != "" {
		return lu.Period.Start.String() + ":" + lu.Reference
	}
	return lu.Period.Start.String() + ":#" + strconv.Itoa(i)
}

// totals sums the lines by kind; Total is exactly the sum of all lines.
func (r *rater) totals() {
	sub, disc, cred, tot := decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
	for _, l := range r.inv.Lines {
		switch l.Kind {
		case KindDiscount:
			disc = disc.Add(l.Amount)
		case KindCredit:
			cred = cred.Add(l.Amount)
		default:
			sub = sub.Add(l.Amount)
		}
		tot = tot.Add(l.Amount)
	}
	r.inv.Subtotal, r.inv.Discounts, r.inv.Credits, r.inv.Total = sub, disc, cred, tot
}
