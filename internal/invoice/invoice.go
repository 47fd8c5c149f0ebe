// Package invoice owns the invoice life cycle (draft, finalized, partially paid, paid, void,
// uncollectible), gap-free numbering per billing entity, credit notes and rendering.
//
// An invoice is never edited after finalization: corrections are credit notes and new invoices.
// PostgreSQL enforces this (see migration 00030_invoices.sql); this package's store functions are
// idempotent by business key so that Temporal activities can retry them safely.
package invoice

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Kind tells a billing-cycle invoice from a one-off invoice.
type Kind string

// The invoice kinds.
const (
	KindCycle  Kind = "cycle"   // one contract's charges for one billing period
	KindOneOff Kind = "one_off" // an ad hoc charge outside the billing cycle
)

// Invoice is a bill to one customer from one billing entity in one currency.
type Invoice struct {
	ID               string          `json:"id"`
	Key              string          `json:"key"` // business idempotency key, e.g. invoice:{contract}:{period}
	Kind             Kind            `json:"kind"`
	ContractID       string          `json:"contract_id,omitempty"`
	ContractVersion  int             `json:"contract_version,omitempty"`
	CustomerID       string          `json:"customer_id"` // the customer's external id
	BillingEntity    string          `json:"billing_entity"`
	Currency         money.Currency  `json:"currency"`
	PeriodStart      Date            `json:"period_start"` // inclusive
	PeriodEnd        Date            `json:"period_end"`   // exclusive
	Status           Status          `json:"status"`
	Number           string          `json:"number,omitempty"` // assigned at finalization
	IssueDate        Date            `json:"issue_date"`
	DueDate          Date            `json:"due_date"`
	PaymentTermsDays int             `json:"payment_terms_days"`
	Memo             string          `json:"memo,omitempty"`
	Lines            []Line          `json:"lines"`
	Subtotal         decimal.Decimal `json:"subtotal"` // sum of the charge lines
	Discount         decimal.Decimal `json:"discount"` // sum of the discount lines, as a positive amount
	Total            decimal.Decimal `json:"total"`    // subtotal minus discount
	AmountPaid       decimal.Decimal `json:"amount_paid"`
	AmountCredited   decimal.Decimal `json:"amount_credited"` // sum of the credit notes issued against it
	AmountDue        decimal.Decimal `json:"amount_due"`      // total minus paid minus credited, never below zero
	PaymentReference string          `json:"payment_reference,omitempty"`
	VoidReason       string          `json:"void_reason,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	FinalizedAt      *time.Time      `json:"finalized_at,omitempty"`
	PaidAt           *time.Time      `json:"paid_at,omitempty"`
	VoidedAt         *time.Time      `json:"voided_at,omitempty"`
	UncollectibleAt  *time.Time      `json:"uncollectible_at,omitempty"`
}

// The line kinds that reduce an invoice (their amounts are zero or negative); any other kind
// (usage, recurring, seats, ...) is a charge. The names match internal/rating's line kinds.
const (
	LineKindCharge   = "charge"   // the default kind of a positive line without one
	LineKindDiscount = "discount" // the default kind of a negative line without one
	LineKindCredit   = "credit"   // prepaid credits drawn down
)

// Line is one charge, discount or credit on an invoice, with the explanation of its amount.
type Line struct {
	No          int              `json:"no"`   // 1-based position on the invoice
	Kind        string           `json:"kind"` // e.g. usage, recurring, seats, discount, credit
	ComponentID string           `json:"component_id,omitempty"`
	Product     string           `json:"product"`
	Description string           `json:"description"`
	PeriodStart Date             `json:"period_start"` // the days this line covers, when it has its own
	PeriodEnd   Date             `json:"period_end"`
	Quantity    decimal.Decimal  `json:"quantity"`             // negative for a seat reduction or usage correction
	UnitPrice   *decimal.Decimal `json:"unit_price,omitempty"` // up to 12 decimal places; nil when not per unit
	Amount      decimal.Decimal  `json:"amount"`               // rounded to the currency's minor unit by internal/money
	Explanation json.RawMessage  `json:"explanation,omitempty"`
}

// Reduces reports whether the line is a discount or credit rather than a charge (a negative line
// without a kind counts as a discount, as Draft.Normalize labels it).
func (l Line) Reduces() bool {
	return l.Kind == LineKindDiscount || l.Kind == LineKindCredit || (l.Kind == "" && l.Amount.IsNegative())
}

// Totals are an invoice's subtotal, discount and total.
type Totals struct {
	Subtotal decimal.Decimal
	Discount decimal.Decimal
	Total    decimal.Decimal
}

// ComputeTotals sums line amounts: charges into the subtotal, discounts and credits into the
// discount (as a positive amount); the total is exactly the sum of all lines.
func ComputeTotals(lines []Line) Totals {
	t := Totals{Subtotal: decimal.Zero, Discount: decimal.Zero}
	for _, l := range lines {
		if l.Reduces() {
			t.Discount = t.Discount.Sub(l.Amount)
		} else {
			t.Subtotal = t.Subtotal.Add(l.Amount)
		}
	}
	t.Total = t.Subtotal.Sub(t.Discount)
	return t
}

// amountDue is total minus paid minus credited, floored at zero (a credit beyond the amount due
// is owed back to the customer, see CreditNote.Excess).
func amountDue(total, paid, credited decimal.Decimal) decimal.Decimal {
	d := total.Sub(paid).Sub(credited)
	if d.IsNegative() {
		return decimal.Zero
	}
	return d
}
