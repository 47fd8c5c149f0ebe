// Package recon is the reconciliation framework of the month-end close: each check compares two
// sides (CRM vs contracts, invoices vs ledger, ...), lists their differences, is evaluated against
// a configured tolerance and is stored with the run it belongs to, with every approval audited.
package recon

import (
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Kind classifies a difference between the two sides of a check.
type Kind string

// Kinds of difference.
const (
	KindMissingLeft    Kind = "missing_left"    // the key is only on the right side
	KindMissingRight   Kind = "missing_right"   // the key is only on the left side
	KindAmountMismatch Kind = "amount_mismatch" // both sides hold the key, with different amounts
	KindDuplicateKey   Kind = "duplicate_key"   // a side holds the key more than once (amounts summed)
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindMissingLeft, KindMissingRight, KindAmountMismatch, KindDuplicateKey:
		return true
	}
	return false
}

// Total is one side's sum and item count in one currency.
type Total struct {
	Currency money.Currency  `json:"currency"`
	Amount   decimal.Decimal `json:"amount"`
	Count    int             `json:"count"`
}

// Side is one of the two things a check compares, with its totals per currency.
type Side struct {
	Name   string  `json:"name"`   // e.g. "invoices", "ledger:accounts_receivable"
	Count  int     `json:"count"`  // items on this side
	Totals []Total `json:"totals"` // per currency, sorted by currency
}

// Difference is one key (in one currency) on which the two sides disagree.
type Difference struct {
	Key      string          `json:"key"` // e.g. an invoice id, opportunity id or ledger entry key
	Currency money.Currency  `json:"currency"`
	Kind     Kind            `json:"kind"`
	Left     decimal.Decimal `json:"left"`  // the left side's amount (0 when missing there)
	Right    decimal.Decimal `json:"right"` // the right side's amount (0 when missing there)
	Delta    decimal.Decimal `json:"delta"` // Left - Right
	Reason   string          `json:"reason"`
}

// Check is one reconciliation: two sides, their totals and every difference, in a run and step.
type Check struct {
	Name        string       `json:"name"` // e.g. "invoices_vs_ledger"
	Run         string       `json:"run"`  // e.g. "close/acme-us/2026-10"
	Step        string       `json:"step"` // the close step it gates, e.g. "invoicing"
	Left        Side         `json:"left"`
	Right       Side         `json:"right"`
	Differences []Difference `json:"differences"` // sorted by key, then currency
}

// Names of the checks of the month-end close, one per pair of sides that must agree.
const (
	CheckCRMVsContracts            = "crm_vs_contracts"             // closed-won opportunities vs contracts, by opportunity id
	CheckUsageVsRated              = "usage_vs_rated"               // raw usage vs rated quantities, by customer:meter:period
	CheckInvoicesVsLedger          = "invoices_vs_ledger"           // invoices and credit notes vs receivable postings, by document id
	CheckPaymentsVsProvider        = "payments_vs_provider"         // recorded payments vs the provider's transactions, by provider id
	CheckLedgerVsERP               = "ledger_vs_erp"                // journal entries vs the ERP, by entry key
	CheckBillingsVsDeferredRevenue = "billings_vs_deferred_revenue" // billings vs the deferred revenue roll-forward, by account:currency
)
