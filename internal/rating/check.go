package rating

import (
	"fmt"

	"github.com/revhub/revhub/internal/contract"
)

// checkUsage reports every problem with the usage input at once, by path (usage.quantities[3].date ...).
func checkUsage(c *contract.Contract, bp BillingPeriod, segs []segment, u *Usage) error {
	var ps contract.Problems
	split := len(segs) > 1
	dated := func(path string, d contract.Date) {
		if d.IsZero() {
			if split {
				ps.Add(path, "required: period %s is split by version %d effective %s, so usage must be dated", bp.Period, segs[1].version.Version, segs[1].Start)
			}
			return
		}
		if !bp.Contains(d) {
			ps.Add(path, "%s is outside the billing period %s", d, bp.Period)
		}
	}
	for i, q := range u.Quantities {
		p := fmt.Sprintf("usage.quantities[%d]", i)
		if q.Meter == "" {
			ps.Add(p+".meter", "required")
		}
		if q.Value.IsNegative() {
			ps.Add(p+".quantity", "must not be negative, got %s", q.Value)
		}
		dated(p+".date", q.Date)
	}
	for i, t := range u.Transactions {
		p := fmt.Sprintf("usage.transactions[%d]", i)
		if t.Meter == "" {
			ps.Add(p+".meter", "required")
		}
		if t.Amount.IsNegative() {
			ps.Add(p+".amount", "must not be negative, got %s (refunds are credit notes, not negative volume)", t.Amount)
		}
		dated(p+".date", t.Date)
	}
	for i, s := range u.Seats {
		p := fmt.Sprintf("usage.seats[%d]", i)
		if s.Date.IsZero() {
			ps.Add(p+".date", "required")
		}
		if s.Seats < 0 {
			ps.Add(p+".seats", "must not be negative, got %d", s.Seats)
		}
		known := false
		for _, sg := range segs {
			if cp, ok := sg.version.Component(s.Component); ok {
				known = true
				if cp.Model != contract.Seats {
					ps.Add(p+".component", "%q is a %s component, not seats", s.Component, cp.Model)
					break
				}
			}
		}
		if !known {
			ps.Add(p+".component", "unknown component %q", s.Component)
		}
	}
	for i, l := range u.Credits {
		p := fmt.Sprintf("usage.credits[%d]", i)
		if l.Lot == "" {
			ps.Add(p+".lot", "required")
		}
		if l.Remaining.IsNegative() {
			ps.Add(p+".remaining", "must not be negative, got %s", l.Remaining)
		}
	}
	for i, l := range u.Late {
		p := fmt.Sprintf("usage.late[%d]", i)
		if !l.Period.End.After(l.Period.Start) {
			ps.Add(p+".period", "end must be after start")
		} else if l.Period.End.After(bp.Start) {
			ps.Add(p+".period", "%s is not before the billing period %s; late usage belongs to an invoiced past period", l.Period, bp.Period)
		}
		if l.Billed.IsNegative() {
			ps.Add(p+".billed", "must not be negative, got %s", l.Billed)
		}
		if l.FreeLeft.IsNegative() {
			ps.Add(p+".free_left", "must not be negative, got %s", l.FreeLeft)
		}
		if !l.Additional.IsPositive() {
			ps.Add(p+".additional", "must be positive, got %s", l.Additional)
		}
	}
	return ps.Err()
}
