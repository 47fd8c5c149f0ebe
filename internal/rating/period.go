package rating

import (
	"fmt"

	"github.com/revhub/revhub/internal/contract"
)

// Period is a half-open range of days [Start, End).
type Period struct {
	Start contract.Date `json:"start"`
	End   contract.Date `json:"end"`
}

// Days is the number of days in the period.
func (p Period) Days() int { return p.Start.DaysUntil(p.End) }

// Contains reports whether day d falls in [Start, End).
func (p Period) Contains(d contract.Date) bool { return !d.Before(p.Start) && d.Before(p.End) }

// String formats the period as "start..end" (end exclusive).
func (p Period) String() string { return p.Start.String() + ".." + p.End.String() }

// BillingPeriod is one period of a contract's cadence: the days billed (cut at the contract end)
// and the nominal full period that is the denominator of every daily proration.
type BillingPeriod struct {
	Period
	Nominal Period `json:"nominal"`
}

// PeriodOn returns the billing period that contains day d. Periods are anchored on the first version's
// start and follow the cadence of the version in force on the period's first day; each is cut at the contract end.
func PeriodOn(c contract.Contract, d contract.Date) (BillingPeriod, error) {
	vs := c.Sorted()
	if len(vs) == 0 {
		return BillingPeriod{}, fmt.Errorf("contract %s: no versions", c.ID)
	}
	anchor := vs[0].Start
	if d.Before(anchor) {
		return BillingPeriod{}, fmt.Errorf("contract %s: %s is before the contract start %s", c.ID, d, anchor)
	}
	months := 0
	for k := 0; ; k++ {
		start := anchor.AddMonths(months)
		v, ok := c.VersionOn(start)
		if !ok {
			v = vs[0]
		}
		step := v.Billing.Cadence.Months()
		if step == 0 {
			return BillingPeriod{}, fmt.Errorf("contract %s version %d: unknown cadence %q", c.ID, v.Version, v.Billing.Cadence)
		}
		end := anchor.AddMonths(months + step)
		if d.Before(end) {
			bp := BillingPeriod{Period: Period{start, end}, Nominal: Period{start, end}}
			if last := lastEnd(vs); !last.IsZero() {
				if !start.Before(last) {
					return BillingPeriod{}, fmt.Errorf("contract %s: %s is after the contract end %s", c.ID, d, last)
				}
				bp.End = contract.MinDate(end, last)
			}
			return bp, nil
		}
		months += step
		if k > 100000 {
			return BillingPeriod{}, fmt.Errorf("contract %s: %s is too far from the start %s", c.ID, d, anchor)
		}
	}
}

// Periods returns the billing periods overlapping [from, to).
func Periods(c contract.Contract, from, to contract.Date) ([]BillingPeriod, error) {
	var out []BillingPeriod
	d := from
	for d.Before(to) {
		p, err := PeriodOn(c, d)
		if err != nil {
			if len(out) > 0 {
				break
			}
			return nil, err
		}
		out = append(out, p)
		d = p.End
	}
	return out, nil
}

// lastEnd is the end of the latest version (the contract end), unset when evergreen.
func lastEnd(vs []contract.Version) contract.Date {
	return vs[len(vs)-1].End
}

// segment is the part of a billing period governed by one contract version.
type segment struct {
	Period
	version *contract.Version
	clause  string // JSON path prefix of the version, e.g. "versions[1]"
}

// segments splits the billing period at every amendment's effective date.
func segments(c *contract.Contract, bp BillingPeriod) ([]segment, error) {
	var out []segment
	start := bp.Start
	for start.Before(bp.End) {
		v := versionOn(c, start)
		if v == nil {
			return nil, fmt.Errorf("contract %s: no version in force on %s", c.ID, start)
		}
		end := bp.End
		for i := range c.Versions {
			e := c.Versions[i].EffectiveStart()
			if e.After(start) && e.Before(end) && c.Versions[i].Version > v.Version {
				end = e
			}
		}
		out = append(out, segment{Period: Period{start, end}, version: v, clause: fmt.Sprintf("v%d", v.Version)})
		start = end
	}
	return out, nil
}

func versionOn(c *contract.Contract, d contract.Date) *contract.Version {
	var best *contract.Version
	for i := range c.Versions {
		v := &c.Versions[i]
		if v.EffectiveStart().After(d) {
			continue
		}
		if best == nil || v.Version > best.Version {
			best = v
		}
	}
	return best
}
