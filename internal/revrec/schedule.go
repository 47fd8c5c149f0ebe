package revrec

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Schedule is an arrangement's revenue schedule: how the price was allocated, and per obligation and month
// what was recognized and billed.
type Schedule struct {
	ArrangementID string          `json:"arrangement_id"`
	CustomerID    string          `json:"customer_id"`
	EntityID      string          `json:"entity_id"`
	Currency      money.Currency  `json:"currency"`
	Versions      []VersionResult `json:"versions"`
	Lines         []Line          `json:"lines"` // every obligation for every month of the schedule, by obligation then month
}

// VersionResult explains the allocation of one contract version: the original (no amendment ID) or an amendment.
type VersionResult struct {
	AmendmentID      string          `json:"amendment_id,omitempty"`
	Effective        time.Time       `json:"effective"`
	Method           Method          `json:"method,omitempty"`
	Reason           string          `json:"reason,omitempty"`
	TransactionPrice decimal.Decimal `json:"transaction_price"` // fixed plus variable consideration of the version
	Allocated        decimal.Decimal `json:"allocated"`         // what was allocated: the remaining consideration when prospective
	Allocations      []Allocation    `json:"allocations"`
}

// Allocation is one obligation's share of a version's transaction price.
type Allocation struct {
	ObligationID string          `json:"obligation_id"`
	Product      string          `json:"product"`
	SSP          decimal.Decimal `json:"ssp"`       // the relative weight: SSP of the whole (or, prospectively, remaining) obligation
	Allocated    decimal.Decimal `json:"allocated"` // transaction price allocated to it
	CatchUp      decimal.Decimal `json:"catch_up"`  // cumulative catch-up recognized on the effective date
}

// Line is one obligation in one month of a schedule.
type Line struct {
	ArrangementID string          `json:"arrangement_id"`
	CustomerID    string          `json:"customer_id"`
	EntityID      string          `json:"entity_id"`
	ObligationID  string          `json:"obligation_id"`
	Product       string          `json:"product"`
	Kind          Kind            `json:"kind"`
	Currency      money.Currency  `json:"currency"`
	Month         Month           `json:"month"`
	Revenue       decimal.Decimal `json:"revenue"`  // recognized revenue other than breakage, catch-up included
	CatchUp       decimal.Decimal `json:"catch_up"` // the part of Revenue that is a cumulative catch-up
	Breakage      decimal.Decimal `json:"breakage"` // commitment shortfall or expired credits recognized
	Billed        decimal.Decimal `json:"billed"`   // invoiced for this obligation in the month
	// Deferred and Unbilled are the obligation's own cumulative billed-less-recognized position at month end;
	// the balance sheet nets them per arrangement (see Balances).
	Deferred decimal.Decimal `json:"deferred"`
	Unbilled decimal.Decimal `json:"unbilled"`
}

// Recognized is revenue plus breakage: everything the month moved to the income statement.
func (l Line) Recognized() decimal.Decimal { return l.Revenue.Add(l.Breakage) }

// Balance is one arrangement's contract position in one month (ASC 606-10-45: presented net per contract).
type Balance struct {
	ArrangementID string          `json:"arrangement_id"`
	CustomerID    string          `json:"customer_id"`
	EntityID      string          `json:"entity_id"`
	Currency      money.Currency  `json:"currency"`
	Month         Month           `json:"month"`
	Opening       decimal.Decimal `json:"opening"`  // net position at month start: positive is a contract liability
	Billed        decimal.Decimal `json:"billed"`   // invoiced in the month
	Revenue       decimal.Decimal `json:"revenue"`  // recognized revenue other than breakage
	Breakage      decimal.Decimal `json:"breakage"` // breakage recognized
	Closing       decimal.Decimal `json:"closing"`  // Opening + Billed - Revenue - Breakage
	Deferred      decimal.Decimal `json:"deferred"` // contract liability (deferred revenue) at month end
	Unbilled      decimal.Decimal `json:"unbilled"` // contract asset (unbilled receivable) at month end
}

// Recognized is revenue plus breakage for the month.
func (b Balance) Recognized() decimal.Decimal { return b.Revenue.Add(b.Breakage) }

// Balances nets lines into one contract position per arrangement and month, ordered by arrangement then month.
// Lines must hold every month of each arrangement (as Compute and the store produce them).
func Balances(lines []Line) []Balance {
	type key struct {
		arr   string
		month int
	}
	byKey := map[key]*Balance{}
	var keys []key
	for _, l := range lines {
		k := key{l.ArrangementID, l.Month.index()}
		b, ok := byKey[k]
		if !ok {
			b = &Balance{ArrangementID: l.ArrangementID, CustomerID: l.CustomerID, EntityID: l.EntityID,
				Currency: l.Currency, Month: l.Month}
			byKey[k] = b
			keys = append(keys, k)
		}
		b.Billed = b.Billed.Add(l.Billed)
		b.Revenue = b.Revenue.Add(l.Revenue)
		b.Breakage = b.Breakage.Add(l.Breakage)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].arr != keys[j].arr {
			return keys[i].arr < keys[j].arr
		}
		return keys[i].month < keys[j].month
	})
	out := make([]Balance, 0, len(keys))
	net := decimal.Zero
	for i, k := range keys {
		if i == 0 || keys[i-1].arr != k.arr {
			net = decimal.Zero
		}
		b := *byKey[k]
		b.Opening = net
		b.Closing = net.Add(b.Billed).Sub(b.Recognized())
		net = b.Closing
		b.Deferred, b.Unbilled = split(b.Closing)
		out = append(out, b)
	}
	return out
}

// split turns a net position into (contract liability, contract asset), one of them zero.
func split(net decimal.Decimal) (deferred, unbilled decimal.Decimal) {
	if net.IsNegative() {
		return decimal.Zero, net.Neg()
	}
	return net, decimal.Zero
}
