package contract

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// MaxPriceDecimals is the finest unit price revhub accepts: 12 decimal places (tokens cost fractions of a cent).
const MaxPriceDecimals = 12

var hundred = decimal.NewFromInt(100)

// Validate checks every rule of the contract document and returns all problems at once as Problems, or nil.
func (v *Version) Validate() error {
	var ps Problems
	v.validate(&ps)
	return ps.Err()
}

// Validate checks each version and the sequence of versions (ids, numbering, effective dates).
func (c *Contract) Validate() error {
	var ps Problems
	if c.ID == "" {
		ps.Add("id", "required")
	}
	if len(c.Versions) == 0 {
		ps.Add("versions", "at least one version is required")
	}
	seen := map[int]bool{}
	for i := range c.Versions {
		v := &c.Versions[i]
		p := fmt.Sprintf("versions[%d]", i)
		var vps Problems
		v.validate(&vps)
		for _, x := range vps {
			ps = append(ps, Problem{Path: p + "." + x.Path, Reason: x.Reason})
		}
		if c.ID != "" && v.ContractID != c.ID {
			ps.Add(p+".contract_id", "must be %q, got %q", c.ID, v.ContractID)
		}
		if seen[v.Version] {
			ps.Add(p+".version", "version %d appears twice", v.Version)
		}
		seen[v.Version] = true
	}
	vs := c.Sorted()
	for i := 1; i < len(vs); i++ {
		if !vs[i].EffectiveStart().After(vs[i-1].EffectiveStart()) {
			ps.Add(fmt.Sprintf("versions[%d].effective_from", indexOf(c.Versions, vs[i].Version)),
				"%s must be after version %d's effective date %s", vs[i].EffectiveStart(), vs[i-1].Version, vs[i-1].EffectiveStart())
		}
	}
	return ps.Err()
}

func indexOf(vs []Version, number int) int {
	for i, v := range vs {
		if v.Version == number {
			return i
		}
	}
	return -1
}

func (v *Version) validate(ps *Problems) {
	if v.ContractID == "" {
		ps.Add("contract_id", "required")
	}
	if v.Version < 1 {
		ps.Add("version", "must be 1 or more, got %d", v.Version)
	}
	switch v.Status {
	case StatusDraft, StatusActive, StatusEnded, StatusCancelled:
	case "":
		ps.Add("status", "required (draft, active, ended or cancelled)")
	default:
		ps.Add("status", "unknown status %q (want draft, active, ended or cancelled)", v.Status)
	}
	if v.Customer.ExternalID == "" {
		ps.Add("customer.external_id", "required")
	}
	if v.Currency == "" {
		ps.Add("currency", "required (ISO 4217 code)")
	} else if !v.Currency.Valid() {
		ps.Add("currency", "%q is not an ISO 4217 currency with known minor units", string(v.Currency))
	}
	if v.BillingEntity == "" {
		ps.Add("billing_entity", "required")
	}
	switch v.PaymentProvider {
	case ProviderStripe, ProviderPayPal, ProviderBank:
	case "":
		ps.Add("payment_provider", "required (stripe, paypal or bank)")
	default:
		ps.Add("payment_provider", "unknown provider %q (want stripe, paypal or bank)", v.PaymentProvider)
	}
	if v.Start.IsZero() {
		ps.Add("start", "required (YYYY-MM-DD)")
	}
	if !v.End.IsZero() && !v.Start.IsZero() && !v.End.After(v.Start) {
		ps.Add("end", "%s must be after start %s", v.End, v.Start)
	}
	if !v.EffectiveFrom.IsZero() && !v.Start.IsZero() {
		if v.EffectiveFrom.Before(v.Start) {
			ps.Add("effective_from", "%s is before start %s", v.EffectiveFrom, v.Start)
		}
		if !v.End.IsZero() && !v.EffectiveFrom.Before(v.End) {
			ps.Add("effective_from", "%s is not before end %s", v.EffectiveFrom, v.End)
		}
	}
	if v.Billing.Cadence.Months() == 0 {
		ps.Add("billing.cadence", "%q is not a cadence (want monthly, quarterly or annual)", v.Billing.Cadence)
	}
	if v.Billing.Timing != InAdvance && v.Billing.Timing != InArrears {
		ps.Add("billing.timing", "%q is not a timing (want in_advance or in_arrears)", v.Billing.Timing)
	}

	meters := map[string]Meter{}
	for i, m := range v.Meters {
		p := fmt.Sprintf("meters[%d]", i)
		if m.ID == "" {
			ps.Add(p+".id", "required")
			continue
		}
		if _, dup := meters[m.ID]; dup {
			ps.Add(p+".id", "meter %q is declared twice", m.ID)
		}
		meters[m.ID] = m
	}

	comps := map[string]PriceModel{}
	for i := range v.Components {
		c := &v.Components[i]
		p := fmt.Sprintf("components[%d]", i)
		if c.ID == "" {
			ps.Add(p+".id", "required")
		} else if _, dup := comps[c.ID]; dup {
			ps.Add(p+".id", "component %q appears twice", c.ID)
		} else {
			comps[c.ID] = c.Model
		}
		if c.Product == "" {
			ps.Add(p+".product", "required")
		}
		switch c.Model {
		case PerUnit, Graduated, Volume, Package, Flat, Seats, Percentage:
		case "":
			ps.Add(p+".model", "required (per_unit, graduated, volume, package, flat, seats or percentage)")
		default:
			ps.Add(p+".model", "unknown price model %q", c.Model)
		}
		if c.Model.Usage() {
			if c.Meter == "" {
				ps.Add(p+".meter", "required for a %s component", c.Model)
			} else if m, ok := meters[c.Meter]; !ok {
				ps.Add(p+".meter", "unknown meter %q (declare it under meters)", c.Meter)
			} else if c.Group != "" && m.GroupBy == "" {
				ps.Add(p+".group", "meter %q has no group_by, so it cannot be split by group %q", c.Meter, c.Group)
			}
		} else if c.Model != "" {
			if c.Meter != "" {
				ps.Add(p+".meter", "not used by a %s component", c.Model)
			}
			if c.Group != "" {
				ps.Add(p+".group", "not used by a %s component", c.Model)
			}
		}
		if c.FreeUnits.IsNegative() {
			ps.Add(p+".free_units", "must not be negative, got %s", c.FreeUnits)
		} else if !c.FreeUnits.IsZero() && (!c.Model.Usage() || c.Model == Percentage) {
			ps.Add(p+".free_units", "only per_unit, graduated, volume and package components have free units")
		}
		validatePrice(ps, p+".price", c.Model, &c.Price, v.Currency)
		for j := range c.Ramps {
			validatePrice(ps, fmt.Sprintf("%s.ramps[%d].price", p, j), c.Model, &c.Ramps[j].Price, v.Currency)
		}
		validateRamps(ps, p+".ramps", c.Ramps)
		for j, r := range c.Ramps {
			for _, f := range []struct {
				name string
				d    Date
			}{{"from", r.From}, {"to", r.To}} {
				if !f.d.IsZero() && !v.isPeriodBoundary(f.d) {
					ps.Add(fmt.Sprintf("%s.ramps[%d].%s", p, j, f.name), "%s is not a billing period boundary (%s periods from %s); a ramp changes the price by period", f.d, v.Billing.Cadence, v.Start)
				}
			}
		}
		if c.Discount != nil {
			validateDiscount(ps, p+".discount", c.Discount, v.Currency)
		}
	}
	if len(v.Components) == 0 {
		ps.Add("components", "at least one component is required")
	}

	if v.Commit != nil {
		validateAmount(ps, "commit.amount", v.Commit.Amount, v.Currency, false)
		for i, id := range v.Commit.Components {
			if _, ok := comps[id]; !ok {
				ps.Add(fmt.Sprintf("commit.components[%d]", i), "unknown component %q", id)
			}
		}
	}
	grants := map[string]bool{}
	for i, g := range v.Credits {
		p := fmt.Sprintf("credits[%d]", i)
		if g.ID == "" {
			ps.Add(p+".id", "required")
		} else if grants[g.ID] {
			ps.Add(p+".id", "credit grant %q appears twice", g.ID)
		}
		grants[g.ID] = true
		validateAmount(ps, p+".amount", g.Amount, v.Currency, true)
		switch g.Every {
		case "":
			if g.GrantedOn.IsZero() {
				ps.Add(p+".granted_on", "required for a one-off grant")
			}
			if g.Rollover {
				ps.Add(p+".rollover", "only recurring grants (every: period) roll over")
			}
		case GrantEveryPeriod:
		default:
			ps.Add(p+".every", "%q is not a recurrence (want \"period\" or leave empty)", g.Every)
		}
		if !g.ExpiresOn.IsZero() && !g.GrantedOn.IsZero() && !g.ExpiresOn.After(g.GrantedOn) {
			ps.Add(p+".expires_on", "%s must be after granted_on %s", g.ExpiresOn, g.GrantedOn)
		}
		for j, id := range g.Components {
			m, ok := comps[id]
			if !ok {
				ps.Add(fmt.Sprintf("%s.components[%d]", p, j), "unknown component %q", id)
			} else if !m.Usage() {
				ps.Add(fmt.Sprintf("%s.components[%d]", p, j), "credits apply to usage components; %q is %s", id, m)
			}
		}
	}
	discounts := map[string]bool{}
	for i := range v.Discounts {
		d := &v.Discounts[i]
		validateDiscount(ps, fmt.Sprintf("discounts[%d]", i), d, v.Currency)
		if d.ID == "" {
			continue
		}
		if _, clash := comps[d.ID]; clash {
			ps.Add(fmt.Sprintf("discounts[%d].id", i), "%q is also a component id; invoice discounts need their own ids", d.ID)
		} else if discounts[d.ID] {
			ps.Add(fmt.Sprintf("discounts[%d].id", i), "discount %q appears twice", d.ID)
		}
		discounts[d.ID] = true
	}
}

// isPeriodBoundary reports whether d starts a billing period (start + k cadences) or is the contract end;
// it is true when start or cadence are unknown, which are reported separately.
func (v *Version) isPeriodBoundary(d Date) bool {
	m := v.Billing.Cadence.Months()
	if m == 0 || v.Start.IsZero() || d.Before(v.Start) {
		return m == 0 || v.Start.IsZero()
	}
	if !v.End.IsZero() && d.Equal(v.End) {
		return true
	}
	for k := 0; ; k += m {
		b := v.Start.AddMonths(k)
		if !b.Before(d) {
			return b.Equal(d)
		}
	}
}

func validatePrice(ps *Problems, p string, m PriceModel, pr *Price, cur money.Currency) {
	unused := func(field string, set bool) {
		if set {
			ps.Add(p+"."+field, "not used by the %s model", m)
		}
	}
	switch m {
	case PerUnit, Seats:
		validateRate(ps, p+".unit_price", pr.UnitPrice)
		if pr.Seats < 0 {
			ps.Add(p+".seats", "must not be negative, got %d", pr.Seats)
		}
		unused("seats", m == PerUnit && pr.Seats != 0)
		unused("tiers", len(pr.Tiers) > 0)
		unused("amount", !pr.Amount.IsZero())
	case Graduated, Volume:
		validateTiers(ps, p+".tiers", pr.Tiers)
		unused("unit_price", !pr.UnitPrice.IsZero())
	case Package:
		if !pr.PackageSize.IsPositive() {
			ps.Add(p+".package_size", "must be positive, got %s", pr.PackageSize)
		}
		validateRate(ps, p+".package_price", pr.PackagePrice)
		unused("unit_price", !pr.UnitPrice.IsZero())
		unused("tiers", len(pr.Tiers) > 0)
	case Flat:
		validateAmount(ps, p+".amount", pr.Amount, cur, false)
		unused("unit_price", !pr.UnitPrice.IsZero())
		unused("tiers", len(pr.Tiers) > 0)
	case Percentage:
		if pr.Percent.IsNegative() || pr.Percent.GreaterThan(hundred) {
			ps.Add(p+".percent", "must be between 0 and 100, got %s", pr.Percent)
		} else if pr.Percent.Exponent() < -MaxPriceDecimals {
			ps.Add(p+".percent", "at most %d decimal places, got %s", MaxPriceDecimals, pr.Percent)
		}
		validateAmount(ps, p+".fixed_fee", pr.FixedFee, cur, false)
		if pr.MinFee != nil {
			validateAmount(ps, p+".min_fee", *pr.MinFee, cur, false)
		}
		if pr.MaxFee != nil {
			validateAmount(ps, p+".max_fee", *pr.MaxFee, cur, false)
		}
		if pr.MinFee != nil && pr.MaxFee != nil && pr.MinFee.GreaterThan(*pr.MaxFee) {
			ps.Add(p+".min_fee", "%s is above max_fee %s", pr.MinFee, pr.MaxFee)
		}
		unused("unit_price", !pr.UnitPrice.IsZero())
		unused("tiers", len(pr.Tiers) > 0)
	}
}

func validateRate(ps *Problems, p string, d decimal.Decimal) {
	if d.IsNegative() {
		ps.Add(p, "negative price %s", d)
	} else if d.Exponent() < -MaxPriceDecimals && !d.Equal(d.Round(MaxPriceDecimals)) {
		ps.Add(p, "at most %d decimal places, got %s", MaxPriceDecimals, d)
	}
}

func validateAmount(ps *Problems, p string, d decimal.Decimal, cur money.Currency, positive bool) {
	switch {
	case d.IsNegative():
		ps.Add(p, "must not be negative, got %s", d)
	case positive && d.IsZero():
		ps.Add(p, "must be positive")
	case d.Exponent() < -MaxPriceDecimals && !d.Equal(d.Round(MaxPriceDecimals)):
		ps.Add(p, "at most %d decimal places, got %s", MaxPriceDecimals, d)
	case cur.Valid() && !money.IsRounded(d, cur):
		n, _ := cur.MinorUnits()
		ps.Add(p, "%s has more decimal places than %s allows (%d)", d, cur, n)
	}
}

func validateTiers(ps *Problems, p string, ts []Tier) {
	if len(ts) == 0 {
		ps.Add(p, "at least one tier is required")
		return
	}
	for i, t := range ts {
		tp := fmt.Sprintf("%s[%d]", p, i)
		if i == 0 && !t.From.IsZero() {
			ps.Add(tp+".from", "the first tier must start at 0, got %s", t.From)
		}
		if i > 0 {
			prev := ts[i-1]
			if prev.UpTo == nil {
				ps.Add(tp, "follows tier %d, which is unbounded", i-1)
			} else if t.From.GreaterThan(*prev.UpTo) {
				ps.Add(tp+".from", "tier gap: the previous tier ends at %s, so quantities in (%s, %s] have no price", prev.UpTo, prev.UpTo, t.From)
			} else if t.From.LessThan(*prev.UpTo) {
				ps.Add(tp+".from", "overlapping tiers: %s is below the previous tier's up_to %s", t.From, prev.UpTo)
			}
		}
		if t.From.IsNegative() {
			ps.Add(tp+".from", "must not be negative, got %s", t.From)
		}
		if t.UpTo != nil && !t.UpTo.GreaterThan(t.From) {
			ps.Add(tp+".up_to", "%s must be greater than from %s", t.UpTo, t.From)
		}
		if t.UpTo == nil && i != len(ts)-1 {
			ps.Add(tp+".up_to", "only the last tier may be unbounded")
		}
		if t.UpTo != nil && i == len(ts)-1 {
			ps.Add(tp+".up_to", "the last tier must be unbounded (omit up_to) so every quantity is priced")
		}
		validateRate(ps, tp+".unit_price", t.UnitPrice)
		validateRate(ps, tp+".flat_fee", t.FlatFee)
	}
}

func validateRamps(ps *Problems, p string, rs []Ramp) {
	for i, r := range rs {
		rp := fmt.Sprintf("%s[%d]", p, i)
		if r.From.IsZero() {
			ps.Add(rp+".from", "required")
			continue
		}
		if !r.To.IsZero() && !r.To.After(r.From) {
			ps.Add(rp+".to", "%s must be after from %s", r.To, r.From)
			continue
		}
		for j := 0; j < i; j++ {
			o := rs[j]
			if o.From.IsZero() || (!o.To.IsZero() && !o.To.After(o.From)) {
				continue
			}
			// [a.From, a.To) and [b.From, b.To) overlap when each starts before the other ends.
			if (o.To.IsZero() || r.From.Before(o.To)) && (r.To.IsZero() || o.From.Before(r.To)) {
				ps.Add(rp, "ramp dates [%s, %s) overlap ramp %d [%s, %s)", r.From, orOpen(r.To), j, o.From, orOpen(o.To))
			}
		}
	}
}

func orOpen(d Date) string {
	if d.IsZero() {
		return "open"
	}
	return d.String()
}

func validateDiscount(ps *Problems, p string, d *Discount, cur money.Currency) {
	switch d.Kind {
	case DiscountPercent:
		if !d.Percent.IsPositive() || d.Percent.GreaterThan(hundred) {
			ps.Add(p+".percent", "must be above 0 and at most 100, got %s", d.Percent)
		}
		if !d.Amount.IsZero() {
			ps.Add(p+".amount", "not used by a percent discount")
		}
	case DiscountFixed:
		validateAmount(ps, p+".amount", d.Amount, cur, true)
		if !d.Percent.IsZero() {
			ps.Add(p+".percent", "not used by a fixed discount")
		}
	default:
		ps.Add(p+".kind", "%q is not a discount kind (want percent or fixed)", d.Kind)
	}
	if !d.From.IsZero() && !d.To.IsZero() && !d.To.After(d.From) {
		ps.Add(p+".to", "%s must be after from %s", d.To, d.From)
	}
}
