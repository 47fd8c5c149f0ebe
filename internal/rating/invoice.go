package rating

import (
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/money"
)

// LineKind classifies an invoice line.
type LineKind string

// Line kinds.
const (
	KindUsage      LineKind = "usage"       // metered usage of a usage component
	KindRecurring  LineKind = "recurring"   // flat recurring fee
	KindSeats      LineKind = "seats"       // seats held at the start of the (part) period
	KindSeatChange LineKind = "seat_change" // prorated seat changes during the period
	KindTrueUp     LineKind = "commit_true_up"
	KindDiscount   LineKind = "discount"
	KindCredit     LineKind = "credit"
	KindLateUsage  LineKind = "late_usage"
)

// Invoice is the rated result for one contract and billing period; Total is exactly the sum of the lines.
type Invoice struct {
	ContractID     string          `json:"contract_id"`
	Customer       string          `json:"customer"`
	Currency       money.Currency  `json:"currency"`
	Period         Period          `json:"period"`
	Lines          []Line          `json:"lines"`
	Subtotal       decimal.Decimal `json:"subtotal"`
	Discounts      decimal.Decimal `json:"discounts"`
	Credits        decimal.Decimal `json:"credits"`
	Total          decimal.Decimal `json:"total"`
	CreditsAfter   []CreditLot     `json:"credits_after,omitempty"`
	CreditsExpired []CreditLot     `json:"credits_expired,omitempty"`
}

// Line is one charge, discount or credit with everything needed to trace it to its clause.
type Line struct {
	Key         string           `json:"key"`
	Kind        LineKind         `json:"kind"`
	Version     int              `json:"version"`
	Component   string           `json:"component,omitempty"`
	Product     string           `json:"product,omitempty"`
	Description string           `json:"description"`
	Period      Period           `json:"period"`
	Timing      contract.Timing  `json:"timing"`
	Quantity    decimal.Decimal  `json:"quantity"`
	UnitPrice   *decimal.Decimal `json:"unit_price,omitempty"`
	Amount      decimal.Decimal  `json:"amount"`
	Explanation Explanation      `json:"explanation"`
}

// Explanation says how a line's amount was computed, from the clause to the rounding.
type Explanation struct {
	Clause    string              `json:"clause"`
	Model     contract.PriceModel `json:"model,omitempty"`
	Meter     string              `json:"meter,omitempty"`
	Group     string              `json:"group,omitempty"`
	Ramp      *int                `json:"ramp,omitempty"`
	Metered   *decimal.Decimal    `json:"metered,omitempty"`
	FreeUnits *decimal.Decimal    `json:"free_units,omitempty"`
	Tiers     []TierUse           `json:"tiers,omitempty"`
	Proration *Proration          `json:"proration,omitempty"`
	Formula   string              `json:"formula"`
	Unrounded decimal.Decimal     `json:"unrounded"`
	Rounding  string              `json:"rounding"`
}

// Proration is the daily proration applied: Days of PeriodDays, with the seat counts per stretch for seats.
type Proration struct {
	Days       int           `json:"days"`
	PeriodDays int           `json:"period_days"`
	Stretches  []SeatStretch `json:"stretches,omitempty"`
}

// SeatStretch is a run of days with a constant seat count.
type SeatStretch struct {
	Period Period          `json:"period"`
	Seats  int64           `json:"seats"`
	Delta  int64           `json:"delta,omitempty"`
	Amount decimal.Decimal `json:"amount"`
}
