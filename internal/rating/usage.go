package rating

import (
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

// Usage is everything measured for one contract and billing period, plus the credit balances carried in.
type Usage struct {
	Quantities   []Quantity    `json:"quantities,omitempty"`
	Transactions []Transaction `json:"transactions,omitempty"`
	Seats        []SeatChange  `json:"seats,omitempty"`
	Credits      []CreditLot   `json:"credits,omitempty"`
	Late         []LateUsage   `json:"late,omitempty"`
}

// Quantity is a metered amount for a meter and optional group (e.g. model=gpt-4 is group "gpt-4").
// Date is the day it was used; it is required only when the period is split by an amendment.
type Quantity struct {
	Meter string          `json:"meter"`
	Group string          `json:"group,omitempty"`
	Date  contract.Date   `json:"date,omitzero"`
	Value decimal.Decimal `json:"quantity"`
}

// Transaction is one payment of the customer's own volume, priced by a percentage component.
type Transaction struct {
	ID     string          `json:"id,omitempty"`
	Meter  string          `json:"meter"`
	Group  string          `json:"group,omitempty"`
	Date   contract.Date   `json:"date,omitzero"`
	Amount decimal.Decimal `json:"amount"`
}

// SeatChange sets a seats component's seat count from Date on (until the next change).
type SeatChange struct {
	Component string        `json:"component"`
	Date      contract.Date `json:"date"`
	Seats     int64         `json:"seats"`
}

// CreditLot is the remaining balance of one credit grant (or one period's instalment of a recurring grant).
type CreditLot struct {
	Lot       string          `json:"lot"`
	Grant     string          `json:"grant"`
	GrantedOn contract.Date   `json:"granted_on"`
	ExpiresOn contract.Date   `json:"expires_on,omitzero"`
	Priority  int             `json:"priority,omitempty"`
	Remaining decimal.Decimal `json:"remaining"`
}

// LateUsage is usage that arrived after its (part) period was invoiced. Billed is the billable quantity already
// charged (the invoiced line's quantity, after free units), FreeLeft the free units that period did not use, and
// Additional the late quantity. It is rated under the version and price in force on Period.Start and billed as a
// separate line.
type LateUsage struct {
	Period     Period          `json:"period"`
	Meter      string          `json:"meter"`
	Group      string          `json:"group,omitempty"`
	Billed     decimal.Decimal `json:"billed"`
	FreeLeft   decimal.Decimal `json:"free_left,omitzero"`
	Additional decimal.Decimal `json:"additional"`
	Reference  string          `json:"reference,omitempty"`
}
