package mappings

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

// ParseSalesforceTiers reads the Tiers__c format: tiers separated by ";", each "FROM-UPTO=PRICE" or, for the last,
// "FROM+=PRICE"; quantities are units, the price is per unit; e.g. "0-100000=0.002; 100000+=0.001".
// Tiers must start at 0, follow one another without gaps and end unbounded.
func ParseSalesforceTiers(s string) ([]contract.Tier, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("required: a tier table such as \"0-100000=0.002; 100000+=0.001\"")
	}
	parts := strings.Split(strings.TrimSuffix(s, ";"), ";")
	tiers := make([]contract.Tier, 0, len(parts))
	for i, raw := range parts {
		part := strings.TrimSpace(raw)
		bounds, price, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("tier %d %q: want FROM-UPTO=PRICE or FROM+=PRICE", i+1, part)
		}
		t := contract.Tier{}
		p, err := decimal.NewFromString(strings.TrimSpace(price))
		if err != nil || p.IsNegative() {
			return nil, fmt.Errorf("tier %d %q: price %q is not a number of zero or more", i+1, part, strings.TrimSpace(price))
		}
		t.UnitPrice = p
		bounds = strings.TrimSpace(bounds)
		last := i == len(parts)-1
		if from, open := strings.CutSuffix(bounds, "+"); open {
			if !last {
				return nil, fmt.Errorf("tier %d %q: only the last tier may be open-ended", i+1, part)
			}
			if t.From, err = decimal.NewFromString(strings.TrimSpace(from)); err != nil {
				return nil, fmt.Errorf("tier %d %q: %q is not a number", i+1, part, from)
			}
		} else {
			from, upTo, ok := strings.Cut(bounds, "-")
			if !ok {
				return nil, fmt.Errorf("tier %d %q: want FROM-UPTO or FROM+ before the =", i+1, part)
			}
			if t.From, err = decimal.NewFromString(strings.TrimSpace(from)); err != nil {
				return nil, fmt.Errorf("tier %d %q: %q is not a number", i+1, part, from)
			}
			u, err := decimal.NewFromString(strings.TrimSpace(upTo))
			if err != nil {
				return nil, fmt.Errorf("tier %d %q: %q is not a number", i+1, part, upTo)
			}
			if !u.GreaterThan(t.From) {
				return nil, fmt.Errorf("tier %d %q: the upper bound must be above %s", i+1, part, t.From)
			}
			if last {
				return nil, fmt.Errorf("tier %d %q: the last tier must be open-ended (FROM+=PRICE) so every quantity is priced", i+1, part)
			}
			t.UpTo = &u
		}
		switch {
		case i == 0 && !t.From.IsZero():
			return nil, fmt.Errorf("tier 1 %q: the first tier must start at 0", part)
		case i > 0 && !t.From.Equal(*tiers[i-1].UpTo):
			return nil, fmt.Errorf("tier %d %q: starts at %s but the previous tier ends at %s", i+1, part, t.From, tiers[i-1].UpTo)
		}
		tiers = append(tiers, t)
	}
	return tiers, nil
}
