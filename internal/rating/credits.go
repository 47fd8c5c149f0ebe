package rating

import (
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

// openLots returns the credit balances usable in this period, in drawdown order. When Usage.Credits is nil, every
// one-off grant granted before the period's end is taken as untouched (unless it expired before the period);
// otherwise Usage.Credits is the complete balance at the period start and only grants made in the period are added.
// A recurring grant adds one lot per period, lapsing at the period end unless it rolls over.
// Drawdown order: earliest expiry first (never-expiring last), then lower priority number, then earlier grant, then lot id.
func (r *rater) openLots(segs []segment) []*CreditLot {
	have := map[string]bool{}
	var lots []*CreditLot
	for i := range r.u.Credits {
		l := r.u.Credits[i]
		have[l.Lot] = true
		lots = append(lots, &l)
	}
	fresh := r.u.Credits == nil
	for _, s := range segs {
		for _, g := range s.version.Credits {
			var l CreditLot
			switch g.Every {
			case contract.GrantEveryPeriod:
				on := r.bp.Start
				if !g.GrantedOn.IsZero() && g.GrantedOn.After(on) {
					if !g.GrantedOn.Before(r.bp.End) {
						continue
					}
					on = g.GrantedOn
				}
				if !g.ExpiresOn.IsZero() && !g.ExpiresOn.After(on) {
					continue
				}
				exp := g.ExpiresOn
				if !g.Rollover && (exp.IsZero() || r.bp.End.Before(exp)) {
					exp = r.bp.End
				}
				l = CreditLot{Lot: g.ID + "@" + r.bp.Start.String(), Grant: g.ID, GrantedOn: on, ExpiresOn: exp, Priority: g.Priority, Remaining: g.Amount}
			default:
				inPeriod := r.bp.Contains(g.GrantedOn)
				before := g.GrantedOn.Before(r.bp.Start) && (g.ExpiresOn.IsZero() || g.ExpiresOn.After(r.bp.Start))
				if !inPeriod && !(fresh && before) {
					continue
				}
				l = CreditLot{Lot: g.ID, Grant: g.ID, GrantedOn: g.GrantedOn, ExpiresOn: g.ExpiresOn, Priority: g.Priority, Remaining: g.Amount}
			}
			if have[l.Lot] {
				continue
			}
			have[l.Lot] = true
			lots = append(lots, &l)
		}
	}
	sort.SliceStable(lots, func(i, j int) bool {
		a, b := lots[i], lots[j]
		if !a.ExpiresOn.Equal(b.ExpiresOn) {
			if a.ExpiresOn.IsZero() || b.ExpiresOn.IsZero() {
				return b.ExpiresOn.IsZero()
			}
			return a.ExpiresOn.Before(b.ExpiresOn)
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		if !a.GrantedOn.Equal(b.GrantedOn) {
			return a.GrantedOn.Before(b.GrantedOn)
		}
		return a.Lot < b.Lot
	})
	return lots
}

// drawCredits applies credit lots to this part period's usage charges (net of their discounts), never taking the
// part period below zero. A lot valid for only some of the part period's days covers that share of the charges.
func (r *rater) drawCredits(s segment, startLine int) {
	if len(r.lots) == 0 {
		return
	}
	eligible := map[string]decimal.Decimal{}
	var order []string
	room := decimal.Zero
	for _, l := range r.inv.Lines[startLine:] {
		room = room.Add(l.Amount)
		c, ok := s.version.Component(l.Component)
		if !ok || !c.Model.Usage() || (l.Kind != KindUsage && l.Kind != KindDiscount) {
			continue
		}
		if _, seen := eligible[l.Component]; !seen {
			order = append(order, l.Component)
		}
		eligible[l.Component] = eligible[l.Component].Add(l.Amount)
	}
	days := s.Days()
	for _, lot := range r.lots {
		if !lot.Remaining.IsPositive() || !room.IsPositive() {
			continue
		}
		from := contract.MaxDate(s.Start, lot.GrantedOn)
		to := s.End
		if !lot.ExpiresOn.IsZero() {
			to = contract.MinDate(to, lot.ExpiresOn)
		}
		valid := from.DaysUntil(to)
		if valid <= 0 {
			continue
		}
		comps := order
		if g := grantOf(s.version, lot.Grant); g != nil && len(g.Components) > 0 {
			comps = g.Components
		}
		base := decimal.Zero
		for _, id := range comps {
			if e := eligible[id]; e.IsPositive() {
				base = base.Add(e)
			}
		}
		limit, exact := base, base
		ex := Explanation{Clause: s.clause + ".credits[" + lot.Grant + "]"}
		if valid < days {
			exact = base.Mul(decimal.NewFromInt(int64(valid))).DivRound(decimal.NewFromInt(int64(days)), divPlaces)
			limit = r.round(exact)
			ex.Proration = &Proration{Days: valid, PeriodDays: days}
		}
		draw := decimal.Min(lot.Remaining, limit, room)
		if !draw.IsPositive() {
			continue
		}
		ex.Unrounded = draw.Neg()
		if draw.Equal(limit) && !limit.Equal(exact) {
			ex.Unrounded = exact.Neg()
		}
		ex.Formula = fmt.Sprintf("min(balance %s, eligible usage %s", lot.Remaining, base)
		if ex.Proration != nil {
			ex.Formula += fmt.Sprintf(" x %d/%d valid days", valid, days)
		}
		ex.Formula += fmt.Sprintf(", invoice remainder %s)", room)
		lot.Remaining = lot.Remaining.Sub(draw)
		room = room.Sub(draw)
		left := draw
		for _, id := range comps {
			e := eligible[id]
			if !e.IsPositive() || !left.IsPositive() {
				continue
			}
			take := decimal.Min(e, left)
			eligible[id] = e.Sub(take)
			left = left.Sub(take)
		}
		r.add(Line{
			Key: r.key(s.version, lot.Lot, KindCredit, s.Start, ""), Kind: KindCredit, Version: s.version.Version,
			Description: "Prepaid credit " + lot.Lot, Period: s.Period, Timing: contract.InArrears,
			Quantity: decimal.NewFromInt(1), Amount: draw.Neg(), Explanation: ex,
		})
	}
}

func grantOf(v *contract.Version, id string) *contract.CreditGrant {
	for i := range v.Credits {
		if v.Credits[i].ID == id {
			return &v.Credits[i]
		}
	}
	return nil
}

// closeLots splits the lots into those carried to the next period and those that expired by the period end.
func (r *rater) closeLots() {
	for _, l := range r.lots {
		if !l.Remaining.IsPositive() {
			continue
		}
		if !l.ExpiresOn.IsZero() && !l.ExpiresOn.After(r.bp.End) {
			r.inv.CreditsExpired = append(r.inv.CreditsExpired, *l)
			continue
		}
		r.inv.CreditsAfter = append(r.inv.CreditsAfter, *l)
	}
}
