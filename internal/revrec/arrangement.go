package revrec

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Kind is the sort of promise an obligation represents; it decides the default recognition pattern and revenue account.
type Kind string

// The obligation kinds revhub sells.
const (
	KindPlatform Kind = "platform" // access to the platform: a stand-ready obligation
	KindSeats    Kind = "seats"    // named-user seats: a stand-ready obligation per seat
	KindUsage    Kind = "usage"    // metered usage, optionally with a minimum commitment or prepaid credits
	KindServices Kind = "services" // professional services delivered at a point in time
	KindSetup    Kind = "setup"    // one-time setup, not distinct from the access it enables
)

// Pattern is how an obligation's allocated amount becomes revenue.
type Pattern string

// The recognition patterns.
const (
	PatternRatable     Pattern = "ratable"       // evenly by day over the service period (stand-ready)
	PatternConsumption Pattern = "consumption"   // as consumed, at the amount invoiced (right-to-invoice expedient)
	PatternPointInTime Pattern = "point_in_time" // in full on the delivery date
)

// DefaultPattern returns the policy pattern of a kind (see docs/revenue-recognition.md).
func (k Kind) DefaultPattern() Pattern {
	switch k {
	case KindUsage:
		return PatternConsumption
	case KindServices:
		return PatternPointInTime
	default:
		return PatternRatable
	}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindPlatform, KindSeats, KindUsage, KindServices, KindSetup:
		return true
	}
	return false
}

// Valid reports whether p is a known pattern.
func (p Pattern) Valid() bool {
	switch p {
	case PatternRatable, PatternConsumption, PatternPointInTime:
		return true
	}
	return false
}

// Arrangement is revrec's view of one customer contract: obligations, consideration, amendments, billings and usage.
type Arrangement struct {
	ID          string                  `json:"id" yaml:"id"`
	CustomerID  string                  `json:"customer_id" yaml:"customer_id"`
	EntityID    string                  `json:"entity_id" yaml:"entity_id"`
	Currency    money.Currency          `json:"currency" yaml:"currency"`
	Obligations []Obligation            `json:"obligations" yaml:"obligations"`
	Variable    []VariableConsideration `json:"variable,omitempty" yaml:"variable,omitempty"`
	Amendments  []Amendment             `json:"amendments,omitempty" yaml:"amendments,omitempty"`
	Billings    []Billing               `json:"billings,omitempty" yaml:"billings,omitempty"`
	Consumption []Consumption           `json:"consumption,omitempty" yaml:"consumption,omitempty"`
}

// Obligation is one performance obligation as promised in a contract version.
type Obligation struct {
	ID       string          `json:"id" yaml:"id"`             // stable across versions: an amendment refers to it by ID
	Product  string          `json:"product" yaml:"product"`   // product code, the key into the SSP table
	Kind     Kind            `json:"kind" yaml:"kind"`         //
	Pattern  Pattern         `json:"pattern" yaml:"pattern"`   // empty: the SSP table's pattern, else the kind's default
	Quantity decimal.Decimal `json:"quantity" yaml:"quantity"` // units (seats, licences); zero means 1
	// Price is the fixed consideration stated in the contract for this obligation over its whole
	// service period (for usage: the prepaid or committed amount is in Commitment instead).
	Price decimal.Decimal `json:"price" yaml:"price"`
	// SSP overrides the SSP table with an observable standalone price for the whole obligation.
	SSP         decimal.Decimal `json:"ssp" yaml:"ssp"`
	Start       time.Time       `json:"start" yaml:"start"`                                   // service period start (inclusive)
	End         time.Time       `json:"end" yaml:"end"`                                       // service period end (exclusive)
	DeliveredOn time.Time       `json:"delivered_on,omitempty" yaml:"delivered_on,omitempty"` // point in time: the delivery date, zero while undelivered
	Commitment  *Commitment     `json:"commitment,omitempty" yaml:"commitment,omitempty"`     // usage only: a minimum commit or prepaid credits
}

// CommitmentPeriod is the span over which a usage commitment is measured.
type CommitmentPeriod string

// The commitment periods.
const (
	CommitMonthly   CommitmentPeriod = "month"   // each calendar month of the service period
	CommitQuarterly CommitmentPeriod = "quarter" // each three months from the start of the service period
	CommitAnnual    CommitmentPeriod = "year"    // each twelve months from the start of the service period
	CommitTerm      CommitmentPeriod = "term"    // the whole service period (prepaid credits that expire at its end)
)

// months returns the length of a periodic commitment in months, 0 for a term commitment or an unknown period.
func (p CommitmentPeriod) months() int {
	switch p {
	case CommitMonthly:
		return 1
	case CommitQuarterly:
		return 3
	case CommitAnnual:
		return 12
	}
	return 0
}

// Commitment is a minimum spend on a usage obligation; what is not consumed by the end of each period is breakage.
type Commitment struct {
	Amount decimal.Decimal  `json:"amount" yaml:"amount"`
	Period CommitmentPeriod `json:"period" yaml:"period"`
}

// VariableConsideration is an estimate of consideration that depends on future events, already constrained
// to the amount that will probably not reverse (a bonus, a rebate as a negative amount).
type VariableConsideration struct {
	ID          string          `json:"id" yaml:"id"`
	Description string          `json:"description" yaml:"description"`
	Amount      decimal.Decimal `json:"amount" yaml:"amount"`
	// ObligationID, when set, allocates the whole amount to that obligation (ASC 606-10-32-40);
	// otherwise it is allocated with the fixed consideration by relative SSP.
	ObligationID string `json:"obligation_id,omitempty" yaml:"obligation_id,omitempty"`
}

// Method is how a contract amendment is accounted for.
type Method string

// The amendment methods (ASC 606-10-25-13).
const (
	// MethodProspective treats the amendment as the end of the old contract and the start of a new one:
	// what is not yet recognized plus the new consideration goes to the remaining obligations.
	MethodProspective Method = "prospective"
	// MethodCumulativeCatchUp treats it as part of the existing contract: the new transaction price is
	// re-allocated to all obligations and the difference in progress to date is recognized at once.
	MethodCumulativeCatchUp Method = "cumulative_catch_up"
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return m == MethodProspective || m == MethodCumulativeCatchUp }

// Amendment is a contract modification: the complete obligations and variable consideration from Effective on,
// and the accounting method chosen for it.
type Amendment struct {
	ID          string                  `json:"id" yaml:"id"`
	Effective   time.Time               `json:"effective" yaml:"effective"`
	Method      Method                  `json:"method" yaml:"method"`
	Reason      string                  `json:"reason" yaml:"reason"` // why the method was chosen, kept with the schedule
	Obligations []Obligation            `json:"obligations" yaml:"obligations"`
	Variable    []VariableConsideration `json:"variable,omitempty" yaml:"variable,omitempty"`
}

// Billing is an amount invoiced to the customer for one obligation on a date (negative for a credit note).
type Billing struct {
	ID           string          `json:"id" yaml:"id"` // invoice line reference
	ObligationID string          `json:"obligation_id" yaml:"obligation_id"`
	Date         time.Time       `json:"date" yaml:"date"`
	Amount       decimal.Decimal `json:"amount" yaml:"amount"`
}

// Consumption is the rated value of usage of a usage obligation in a month, the amount invoiced for it.
type Consumption struct {
	ObligationID string          `json:"obligation_id" yaml:"obligation_id"`
	Month        Month           `json:"month" yaml:"month"`
	Amount       decimal.Decimal `json:"amount" yaml:"amount"`
}

// quantity returns the obligation's quantity, 1 when unset.
func (o Obligation) quantity() decimal.Decimal {
	if o.Quantity.IsZero() {
		return decimal.NewFromInt(1)
	}
	return o.Quantity
}
