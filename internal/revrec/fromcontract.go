package revrec

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/rating"
)

// CommitObligationID is the obligation that gathers the usage components covered by a contract's minimum commit.
const CommitObligationID = "commit"

// AmendmentChoice is the accounting method chosen for one contract version after the first, and why.
type AmendmentChoice struct {
	Method Method
	Reason string
}

// FromContract builds the arrangement of a single contract version: one obligation per fixed component
// (flat or seats) priced at what rating will invoice for it over the term, one per usage component (the
// components covered by a minimum commit gathered into one obligation, CommitObligationID, carrying the
// commitment), and invoice-level discounts as consideration allocated by SSP. Billings and consumption are
// left for the caller. Credit grants carry no price: usage is recognized at the amount invoiced after them.
func FromContract(v contract.Version, t *SSPTable) (Arrangement, error) {
	return FromContractVersions(contract.Contract{ID: v.ContractID, Versions: []contract.Version{v}}, t, nil)
}

// FromContractVersions builds the arrangement of a contract with all its versions: the first is the
// original and each later one an amendment, accounted for by the method chosen for its version number.
func FromContractVersions(c contract.Contract, t *SSPTable, choices map[int]AmendmentChoice) (Arrangement, error) {
	vs := c.Sorted()
	var ps problems
	if len(vs) == 0 {
		ps.add("versions", "at least one version is required")
		return Arrangement{}, ps.err("contract " + c.ID)
	}
	first := vs[0]
	a := Arrangement{ID: c.ID, CustomerID: first.Customer.ExternalID, EntityID: first.BillingEntity, Currency: first.Currency}
	firstSeen := map[string]contract.Date{} // component id -> the day it first took effect
	for i := range vs {
		path := fmt.Sprintf("versions[%d]", i)
		v := vs[i]
		if v.End.IsZero() {
			ps.add(path+".end", "revenue recognition needs a contract term: an evergreen contract has no end date")
			continue
		}
		if v.Currency != first.Currency {
			ps.add(path+".currency", fmt.Sprintf("%s differs from the first version's %s", v.Currency, first.Currency))
			continue
		}
		for _, comp := range v.Components {
			if _, ok := firstSeen[comp.ID]; !ok {
				firstSeen[comp.ID] = v.EffectiveStart()
			}
		}
		obs, vars, fixed, err := versionObligations(contract.Contract{ID: c.ID, Versions: vs[:i+1]}, v, t, firstSeen, path, &ps)
		if err != nil {
			return Arrangement{}, err
		}
		if i == 0 {
			a.Obligations, a.Variable = obs, vars
			continue
		}
		// An obligation dropped by this version ends on its effective date, at what was billed before.
		have := map[string]bool{}
		for _, o := range obs {
			have[o.ID] = true
		}
		prev := a.Obligations
		if n := len(a.Amendments); n > 0 {
			prev = a.Amendments[n-1].Obligations
		}
		for _, o := range prev {
			if !have[o.ID] {
				o.End = minTime(o.End, v.EffectiveStart().Time())
				if o.Kind != KindUsage {
					o.Price = fixed[o.ID]
				}
				obs = append(obs, o)
			}
		}
		ch, ok := choices[v.Version]
		if !ok {
			ps.add(path+".version", fmt.Sprintf("no accounting method chosen for amendment version %d", v.Version))
		}
		a.Amendments = append(a.Amendments, Amendment{ID: fmt.Sprintf("%s:v%d", c.ID, v.Version), Effective: v.EffectiveStart().Time(),
			Method: ch.Method, Reason: ch.Reason, Obligations: obs, Variable: vars})
	}
	if err := ps.err("contract " + c.ID); err != nil {
		return Arrangement{}, err
	}
	return a, nil
}

// versionObligations maps version v of contract c (c holding v and the versions before it) to obligations.
func versionObligations(c contract.Contract, v contract.Version, t *SSPTable, firstSeen map[string]contract.Date,
	path string, ps *problems) ([]Obligation, []VariableConsideration, map[string]decimal.Decimal, error) {
	fixed, discounts, err := fixedConsideration(c, v.Currency)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("contract %s: %w", c.ID, err)
	}
	covered := map[string]bool{}
	if v.Commit != nil {
		for _, id := range v.Commit.Components {
			covered[id] = true
		}
		if len(v.Commit.Components) == 0 {
			for _, comp := range v.Components {
				covered[comp.ID] = comp.Model.Usage()
			}
		}
	}
	var obs []Obligation
	var commit *Obligation
	for ci, comp := range v.Components {
		kind := kindOf(comp, t)
		o := Obligation{ID: comp.ID, Product: comp.Product, Kind: kind, Start: firstSeen[comp.ID].Time(), End: v.End.Time()}
		if !comp.Model.Usage() {
			if kind == KindUsage {
				ps.add(fmt.Sprintf("%s.components[%d].product", path, ci), fmt.Sprintf("the SSP table makes %q usage, but the %s model is a fixed fee", comp.Product, comp.Model))
				continue
			}
			o.Price = fixed[comp.ID]
			if comp.Model == contract.Seats && comp.Price.Seats > 0 {
				o.Quantity = decimal.NewFromInt(comp.Price.Seats)
			}
			obs = append(obs, o)
			continue
		}
		if kind != KindUsage {
			ps.add(fmt.Sprintf("%s.components[%d].product", path, ci), fmt.Sprintf("the SSP table makes %q %s, but the %s model prices usage", comp.Product, kind, comp.Model))
			continue
		}
		if !covered[comp.ID] {
			obs = append(obs, o)
			continue
		}
		if commit == nil {
			product := v.Commit.Product
			if product == "" {
				product = comp.Product
			}
			period, err := commitmentPeriod(v.Billing.Cadence)
			if err != nil {
				ps.add(path+".billing.cadence", err.Error())
			}
			commit = &Obligation{ID: CommitObligationID, Product: product, Kind: KindUsage, Start: o.Start, End: o.End,
				Commitment: &Commitment{Amount: v.Commit.Amount, Period: period}}
		}
		commit.Start = minTime(commit.Start, o.Start)
	}
	if commit != nil {
		obs = append(obs, *commit)
	}
	var vars []VariableConsideration
	if !discounts.IsZero() {
		vars = append(vars, VariableConsideration{ID: "invoice-discounts", Description: "invoice-level discounts on fixed fees, allocated by SSP", Amount: discounts})
	}
	return obs, vars, fixed, nil
}

// fixedConsideration rates every billing period of c with no usage, commit or credits: what will be invoiced
// per fixed component (charges less its own discounts) and in invoice-level discounts, over the whole term.
func fixedConsideration(c contract.Contract, cur money.Currency) (map[string]decimal.Decimal, decimal.Decimal, error) {
	stripped := contract.Contract{ID: c.ID, Versions: make([]contract.Version, len(c.Versions))}
	for i, v := range c.Versions {
		v.Commit, v.Credits = nil, nil
		stripped.Versions[i] = v
	}
	vs := stripped.Sorted()
	periods, err := rating.Periods(stripped, vs[0].Start, vs[len(vs)-1].End)
	if err != nil {
		return nil, decimal.Zero, fmt.Errorf("billing periods: %w", err)
	}
	fixed, discounts := map[string]decimal.Decimal{}, decimal.Zero
	for _, p := range periods {
		inv, err := rating.Rate(stripped, p.Period, rating.Usage{})
		if err != nil {
			return nil, decimal.Zero, fmt.Errorf("fixed fees of %s: %w", p.Period, err)
		}
		for _, l := range inv.Lines {
			switch {
			case l.Kind == rating.KindUsage:
			case l.Component != "":
				fixed[l.Component] = fixed[l.Component].Add(l.Amount)
			case l.Kind == rating.KindDiscount:
				discounts = discounts.Add(l.Amount)
			}
		}
	}
	for id, x := range fixed {
		fixed[id] = money.MustRound(x, cur)
	}
	return fixed, money.MustRound(discounts, cur), nil
}

// kindOf is the SSP table's kind of the component's product, else the kind its price model implies.
func kindOf(comp contract.Component, t *SSPTable) Kind {
	if e, ok := t.Entry(comp.Product); ok {
		return e.Kind
	}
	switch {
	case comp.Model.Usage():
		return KindUsage
	case comp.Model == contract.Seats:
		return KindSeats
	}
	return KindPlatform
}

// commitmentPeriod is the commitment period of a commit measured per billing period.
func commitmentPeriod(c contract.Cadence) (CommitmentPeriod, error) {
	switch c {
	case contract.Monthly:
		return CommitMonthly, nil
	case contract.Quarterly:
		return CommitQuarterly, nil
	case contract.Annual:
		return CommitAnnual, nil
	}
	return "", fmt.Errorf("%q is not a cadence a commitment can be measured by", c)
}
