package invoice

import (
	"encoding/json"
	"fmt"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/rating"
)

// lineExplanation is the stored explanation of a rated line: where it comes from (line key,
// contract version, component, period, timing) and how its amount was computed (the rating
// engine's explanation: clause, model, tiers, rate, proration, unrounded amount, rounding).
type lineExplanation struct {
	LineKey         string          `json:"line_key"`
	Kind            rating.LineKind `json:"kind"`
	ContractVersion int             `json:"contract_version"`
	Component       string          `json:"component,omitempty"`
	Period          rating.Period   `json:"period"`
	Timing          contract.Timing `json:"timing,omitempty"`
	rating.Explanation
}

// LinesFromRating turns the rating engine's explained lines into invoice lines, keeping each
// line's full explanation as JSON.
func LinesFromRating(lines []rating.Line) ([]Line, error) {
	out := make([]Line, len(lines))
	for i, rl := range lines {
		expl, err := json.Marshal(lineExplanation{
			LineKey: rl.Key, Kind: rl.Kind, ContractVersion: rl.Version, Component: rl.Component,
			Period: rl.Period, Timing: rl.Timing, Explanation: rl.Explanation,
		})
		if err != nil {
			return nil, fmt.Errorf("invoice: lines[%d] (%s): explanation: %w", i, rl.Key, err)
		}
		product := rl.Product
		if product == "" {
			product = rl.Component
		}
		if product == "" {
			product = string(rl.Kind)
		}
		var up = rl.UnitPrice
		if up != nil {
			v := *up
			up = &v
		}
		out[i] = Line{
			No: i + 1, Kind: string(rl.Kind), ComponentID: rl.Component, Product: product, Description: rl.Description,
			PeriodStart: DateOf(rl.Period.Start.Time()), PeriodEnd: DateOf(rl.Period.End.Time()),
			Quantity: rl.Quantity, UnitPrice: up, Amount: rl.Amount, Explanation: expl,
		}
	}
	return out, nil
}

// DraftFromRating builds the billing-cycle draft for a rated period. v is the contract version in
// force at the period's end (it names the billing entity and the version the invoice cites); the
// business key is CycleKey of the contract and period, so re-rating the same period cannot bill twice.
func DraftFromRating(rated rating.Invoice, v contract.Version, paymentTermsDays int) (Draft, error) {
	if v.ContractID != rated.ContractID {
		return Draft{}, fmt.Errorf("invoice: version belongs to contract %q, rated invoice to %q", v.ContractID, rated.ContractID)
	}
	lines, err := LinesFromRating(rated.Lines)
	if err != nil {
		return Draft{}, err
	}
	start, end := DateOf(rated.Period.Start.Time()), DateOf(rated.Period.End.Time())
	d := Draft{
		Key: CycleKey(rated.ContractID, start, end), Kind: KindCycle,
		ContractID: rated.ContractID, ContractVersion: v.Version, CustomerID: rated.Customer,
		BillingEntity: v.BillingEntity, Currency: rated.Currency, PeriodStart: start, PeriodEnd: end,
		PaymentTermsDays: paymentTermsDays, Lines: lines,
	}.Normalize()
	if got := ComputeTotals(d.Lines).Total; !got.Equal(rated.Total) {
		return Draft{}, fmt.Errorf("invoice: rated total %s of contract %s period %s differs from the sum of its lines %s",
			rated.Total, rated.ContractID, rated.Period, got)
	}
	return d, d.Validate()
}
