package revrec

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Validate checks an arrangement against the SSP table and returns an *InvalidArrangement listing every problem.
func Validate(a Arrangement, t *SSPTable) error {
	var ps problems
	if a.ID == "" {
		ps.add("id", "is required")
	}
	if a.CustomerID == "" {
		ps.add("customer_id", "is required")
	}
	if a.EntityID == "" {
		ps.add("entity_id", "is required")
	}
	curOK := a.Currency.Valid()
	if !curOK {
		ps.add("currency", fmt.Sprintf("%q is not a supported ISO 4217 currency", string(a.Currency)))
	}
	amount := func(field string, v decimal.Decimal) {
		if curOK && !money.IsRounded(v, a.Currency) {
			ps.add(field, fmt.Sprintf("%s has more decimals than %s allows", v, a.Currency))
		}
	}
	known := map[string]Obligation{} // every obligation of any version, latest definition
	validateVersion := func(prefix string, obs []Obligation, vars []VariableConsideration) {
		if len(obs) == 0 {
			ps.add(prefix+"obligations", "at least one obligation is required")
		}
		ids := map[string]Obligation{}
		for i, o := range obs {
			p := fmt.Sprintf("%sobligations[%d]", prefix, i)
			if o.ID == "" {
				ps.add(p+".id", "is required")
			} else if _, dup := ids[o.ID]; dup {
				ps.add(p+".id", fmt.Sprintf("%q is used by another obligation", o.ID))
			}
			ids[o.ID] = o
			if o.Product == "" {
				ps.add(p+".product", "is required")
			}
			if !o.Kind.Valid() {
				ps.add(p+".kind", fmt.Sprintf("%q is not one of platform, seats, usage, services, setup", o.Kind))
				continue
			}
			pat := patternOf(o, t)
			if !pat.Valid() {
				ps.add(p+".pattern", fmt.Sprintf("%q is not one of ratable, consumption, point_in_time", o.Pattern))
				continue
			}
			if (pat == PatternConsumption) != (o.Kind == KindUsage) {
				ps.add(p+".pattern", fmt.Sprintf("%s: only usage obligations are recognized as consumed", pat))
			}
			if o.Quantity.IsNegative() {
				ps.add(p+".quantity", "must not be negative")
			}
			if o.Price.IsNegative() {
				ps.add(p+".price", "must not be negative")
			}
			amount(p+".price", o.Price)
			if o.SSP.IsNegative() {
				ps.add(p+".ssp", "must not be negative")
			}
			needsPeriod := pat != PatternPointInTime
			if needsPeriod && o.Start.IsZero() {
				ps.add(p+".start", "is required for a "+string(pat)+" obligation")
			}
			if needsPeriod && o.End.IsZero() {
				ps.add(p+".end", "is required for a "+string(pat)+" obligation")
			}
			if !o.Start.IsZero() && !o.End.IsZero() && !dateOf(o.End).After(dateOf(o.Start)) {
				ps.add(p+".end", "must be after start (the end date is exclusive)")
			}
			if pat == PatternConsumption {
				if !o.Price.IsZero() {
					ps.add(p+".price", "must be zero for usage: its consideration is the consumption and the commitment")
				}
				if c := o.Commitment; c != nil {
					if !c.Amount.IsPositive() {
						ps.add(p+".commitment.amount", "must be positive")
					}
					amount(p+".commitment.amount", c.Amount)
					switch c.Period {
					case CommitTerm:
					case CommitMonthly, CommitQuarterly, CommitAnnual:
						if (!o.Start.IsZero() && dateOf(o.Start).Day() != 1) || (!o.End.IsZero() && dateOf(o.End).Day() != 1) {
							ps.add(p+".commitment.period", "a periodic commitment needs a service period from the first of a month to the first of a month")
						}
					default:
						ps.add(p+".commitment.period", fmt.Sprintf("%q is not one of month, quarter, year, term", c.Period))
					}
				}
				continue
			}
			if o.Commitment != nil {
				ps.add(p+".commitment", "only usage obligations take a commitment")
			}
			if curOK {
				if _, err := t.SSP(o, a.Currency); err != nil {
					ps.add(p+".product", err.Error())
				} else if s, _ := t.SSP(o, a.Currency); !s.IsPositive() {
					ps.add(p+".ssp", "the standalone selling price must be positive")
				}
			}
		}
		for i, v := range vars {
			p := fmt.Sprintf("%svariable[%d]", prefix, i)
			if v.ID == "" {
				ps.add(p+".id", "is required")
			}
			amount(p+".amount", v.Amount)
			if v.ObligationID != "" {
				o, ok := ids[v.ObligationID]
				switch {
				case !ok:
					ps.add(p+".obligation_id", fmt.Sprintf("%q is not an obligation of this version", v.ObligationID))
				case o.Kind == KindUsage:
					ps.add(p+".obligation_id", "usage consideration is recognized as consumed, not allocated")
				}
			}
		}
		for id, o := range ids {
			known[id] = o
		}
	}
	validateVersion("", a.Obligations, a.Variable)
	prev := a.Obligations
	var last time.Time
	for i, am := range a.Amendments {
		p := fmt.Sprintf("amendments[%d]", i)
		if am.ID == "" {
			ps.add(p+".id", "is required")
		}
		if !am.Method.Valid() {
			ps.add(p+".method", fmt.Sprintf("%q is not one of prospective, cumulative_catch_up", am.Method))
		}
		if am.Effective.IsZero() {
			ps.add(p+".effective", "is required")
		} else if !last.IsZero() && !dateOf(am.Effective).After(last) {
			ps.add(p+".effective", "must be after the previous amendment's")
		}
		last = dateOf(am.Effective)
		validateVersion(p+".", am.Obligations, am.Variable)
		now := map[string]Obligation{}
		for _, o := range am.Obligations {
			now[o.ID] = o
		}
		for _, o := range prev {
			n, ok := now[o.ID]
			switch {
			case !ok:
				ps.add(p+".obligations", fmt.Sprintf("obligation %q is missing: keep it and end it on the effective date instead", o.ID))
			case n.Kind != o.Kind || n.Product != o.Product:
				ps.add(p+".obligations", fmt.Sprintf("obligation %q changes product or kind: add a new obligation instead", o.ID))
			}
		}
		prev = am.Obligations
	}
	for i, b := range a.Billings {
		p := fmt.Sprintf("billings[%d]", i)
		if _, ok := known[b.ObligationID]; !ok {
			ps.add(p+".obligation_id", fmt.Sprintf("%q is not an obligation of the arrangement", b.ObligationID))
		}
		if b.Date.IsZero() {
			ps.add(p+".date", "is required")
		}
		amount(p+".amount", b.Amount)
	}
	for i, c := range a.Consumption {
		p := fmt.Sprintf("consumption[%d]", i)
		o, ok := known[c.ObligationID]
		switch {
		case !ok:
			ps.add(p+".obligation_id", fmt.Sprintf("%q is not an obligation of the arrangement", c.ObligationID))
		case o.Kind != KindUsage:
			ps.add(p+".obligation_id", fmt.Sprintf("%q is not a usage obligation", c.ObligationID))
		case !o.Start.IsZero() && !o.End.IsZero() && (c.Month.Before(MonthOf(o.Start)) || !c.Month.Start().Before(dateOf(o.End))):
			ps.add(p+".month", fmt.Sprintf("%s is outside the service period of %q", c.Month, c.ObligationID))
		}
		if c.Month.IsZero() {
			ps.add(p+".month", "is required")
		}
		if c.Amount.IsNegative() {
			ps.add(p+".amount", "must not be negative")
		}
		amount(p+".amount", c.Amount)
	}
	return ps.err("arrangement " + a.ID)
}

// patternOf resolves an obligation's recognition pattern: its own, else the SSP table's, else the kind's default.
func patternOf(o Obligation, t *SSPTable) Pattern {
	if o.Pattern != "" {
		return o.Pattern
	}
	if e, ok := t.Entry(o.Product); ok && e.Pattern != "" {
		return e.Pattern
	}
	return o.Kind.DefaultPattern()
}

// IsInvalid reports whether err is permanent bad input (an *InvalidArrangement).
func IsInvalid(err error) bool {
	var ia *InvalidArrangement
	return errors.As(err, &ia)
}
