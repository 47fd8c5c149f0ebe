package intake

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
)

// TotalContractValue is the committed value of a contract version over its whole term [Start, End): for each
// billing period, the flat fees, seats (committed seats x price) and minimum commit in force on the period's
// first day (ramps included), less the discounts in force then, each rounded to the currency. Usage above a
// commit is not committed, so it counts as nothing; prepaid credits count through their purchase component.
// This is what the CRM's line items must add up to. An open-ended version has no total contract value.
func TotalContractValue(v contract.Version) (decimal.Decimal, error) {
	if v.End.IsZero() {
		return decimal.Zero, fmt.Errorf("contract %s version %d: open-ended, so it has no total contract value", v.ContractID, v.Version)
	}
	months := v.Billing.Cadence.Months()
	if months == 0 {
		return decimal.Zero, fmt.Errorf("contract %s version %d: billing.cadence %q is not a cadence", v.ContractID, v.Version, v.Billing.Cadence)
	}
	if _, err := v.Currency.MinorUnits(); err != nil {
		return decimal.Zero, fmt.Errorf("contract %s version %d: currency: %w", v.ContractID, v.Version, err)
	}
	total := decimal.Zero
	for k := 0; ; k++ {
		p := v.Start.AddMonths(k * months)
		if !p.Before(v.End) {
			break
		}
		total = total.Add(periodValue(v, p))
	}
	return total, nil
}

// periodValue is the committed amount of the billing period starting on p.
func periodValue(v contract.Version, p contract.Date) decimal.Decimal {
	sum := decimal.Zero
	for i := range v.Components {
		c := &v.Components[i]
		price, _ := c.PriceOn(p)
		var amount decimal.Decimal
		switch c.Model {
		case contract.Flat:
			amount = price.Amount
		case contract.Seats:
			amount = price.UnitPrice.Mul(decimal.NewFromInt(price.Seats))
		default:
			continue // usage: nothing committed
		}
		amount = money.MustRound(amount, v.Currency)
		sum = sum.Add(amount.Sub(discountOn(c.Discount, amount, p, v.Currency)))
	}
	if v.Commit != nil {
		sum = sum.Add(money.MustRound(v.Commit.Amount, v.Currency))
	}
	for i := range v.Discounts {
		sum = sum.Sub(discountOn(&v.Discounts[i], sum, p, v.Currency))
	}
	return sum
}

// discountOn is the reduction d makes to amount in the period starting on p (never more than amount).
func discountOn(d *contract.Discount, amount decimal.Decimal, p contract.Date, cur money.Currency) decimal.Decimal {
	if d == nil || (!d.From.IsZero() && p.Before(d.From)) || (!d.To.IsZero() && !p.Before(d.To)) {
		return decimal.Zero
	}
	var off decimal.Decimal
	switch d.Kind {
	case contract.DiscountPercent:
		off = money.MustRound(amount.Mul(d.Percent).Div(decimal.NewFromInt(100)), cur)
	case contract.DiscountFixed:
		off = d.Amount
	}
	if off.GreaterThan(amount) {
		return amount
	}
	return off
}

// LineTotal is the sum of a deal's line items' TotalPrice: what the CRM says the customer committed to.
func LineTotal(d salesforce.Deal) decimal.Decimal {
	sum := decimal.Zero
	for _, li := range d.LineItems {
		if li.TotalPrice != nil {
			sum = sum.Add(*li.TotalPrice)
		}
	}
	return sum
}
