package rating

import (
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

var hundred = decimal.NewFromInt(100)

// TierUse is the part of a quantity priced in one tier: Units x UnitPrice (+ FlatFee) = Amount, unrounded.
type TierUse struct {
	Tier      int              `json:"tier"`
	From      decimal.Decimal  `json:"from"`
	UpTo      *decimal.Decimal `json:"up_to,omitempty"`
	Units     decimal.Decimal  `json:"units"`
	UnitPrice decimal.Decimal  `json:"unit_price"`
	FlatFee   decimal.Decimal  `json:"flat_fee,omitzero"`
	Amount    decimal.Decimal  `json:"amount"`
}

// PerUnitCharge is quantity x unit price, unrounded.
func PerUnitCharge(q, unitPrice decimal.Decimal) decimal.Decimal { return q.Mul(unitPrice) }

// GraduatedCharge prices each tier's slice of q at that tier's price (plus its flat fee when the tier is reached);
// it returns the unrounded total and the tiers used.
func GraduatedCharge(q decimal.Decimal, tiers []contract.Tier) (decimal.Decimal, []TierUse) {
	total := decimal.Zero
	var used []TierUse
	for i, t := range tiers {
		if !q.GreaterThan(t.From) {
			break
		}
		top := q
		if t.UpTo != nil && t.UpTo.LessThan(q) {
			top = *t.UpTo
		}
		units := top.Sub(t.From)
		amt := units.Mul(t.UnitPrice).Add(t.FlatFee)
		used = append(used, TierUse{Tier: i, From: t.From, UpTo: t.UpTo, Units: units, UnitPrice: t.UnitPrice, FlatFee: t.FlatFee, Amount: amt})
		total = total.Add(amt)
	}
	return total, used
}

// VolumeCharge prices all of q at the price of the tier q falls in (From < q <= UpTo), plus that tier's flat fee;
// zero quantity costs nothing.
func VolumeCharge(q decimal.Decimal, tiers []contract.Tier) (decimal.Decimal, []TierUse) {
	if !q.IsPositive() {
		return decimal.Zero, nil
	}
	for i, t := range tiers {
		if t.UpTo == nil || !q.GreaterThan(*t.UpTo) {
			amt := q.Mul(t.UnitPrice).Add(t.FlatFee)
			return amt, []TierUse{{Tier: i, From: t.From, UpTo: t.UpTo, Units: q, UnitPrice: t.UnitPrice, FlatFee: t.FlatFee, Amount: amt}}
		}
	}
	return decimal.Zero, nil
}

// PackageCharge bills every started block of size units at the package price; it returns the amount and the blocks.
func PackageCharge(q, size, price decimal.Decimal) (decimal.Decimal, decimal.Decimal) {
	if !q.IsPositive() || !size.IsPositive() {
		return decimal.Zero, decimal.Zero
	}
	blocks := q.Div(size).Ceil()
	if blocks.Mul(size).LessThan(q) { // guard against Div's finite precision on long fractions
		blocks = blocks.Add(decimal.NewFromInt(1))
	}
	return blocks.Mul(price), blocks
}

// TransactionFee is percent of amount plus the fixed fee, clamped to [min, max] when they are set; unrounded.
func TransactionFee(amount decimal.Decimal, p contract.Price) decimal.Decimal {
	fee := amount.Mul(p.Percent).Div(hundred).Add(p.FixedFee)
	if p.MinFee != nil && fee.LessThan(*p.MinFee) {
		fee = *p.MinFee
	}
	if p.MaxFee != nil && fee.GreaterThan(*p.MaxFee) {
		fee = *p.MaxFee
	}
	return fee
}
