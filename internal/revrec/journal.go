package revrec

import (
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Side is the debit or credit side of a journal line.
type Side string

// The two sides.
const (
	Debit  Side = "debit"
	Credit Side = "credit"
)

// Accounts are the ledger account codes revrec's journal suggestions post to.
type Accounts struct {
	Receivable         string          // accounts receivable
	UnbilledReceivable string          // contract asset
	DeferredRevenue    string          // contract liability
	Revenue            map[Kind]string // revenue by obligation kind
	Breakage           string          // breakage revenue
}

// DefaultAccounts returns revhub's default chart: 1100 AR, 1150 unbilled AR, 2400 deferred revenue,
// 4010-4050 revenue by kind and 4950 breakage revenue.
func DefaultAccounts() Accounts {
	return Accounts{
		Receivable: "1100", UnbilledReceivable: "1150", DeferredRevenue: "2400", Breakage: "4950",
		Revenue: map[Kind]string{KindPlatform: "4010", KindSeats: "4020", KindUsage: "4030", KindServices: "4040", KindSetup: "4050"},
	}
}

// EntryKind says which business event a suggested entry records.
type EntryKind string

// The entry kinds, in the order they are posted within a month.
const (
	EntryBilling     EntryKind = "billing"     // invoices of the month: AR against deferred revenue or unbilled AR
	EntryRecognition EntryKind = "recognition" // revenue of the month: deferred revenue or unbilled AR to revenue
	EntryBreakage    EntryKind = "breakage"    // shortfall and expired credits: deferred revenue or unbilled AR to breakage
)

// JournalLine is one posting of a suggested entry; Amount is positive.
type JournalLine struct {
	Account string          `json:"account"`
	Side    Side            `json:"side"`
	Amount  decimal.Decimal `json:"amount"`
}

// JournalEntry is a balanced entry revrec suggests for the ledger, keyed by its business event.
type JournalEntry struct {
	Key           string         `json:"key"` // idempotency key: revrec:{arrangement}:{YYYY-MM}:{kind}
	ArrangementID string         `json:"arrangement_id"`
	EntityID      string         `json:"entity_id"`
	Month         Month          `json:"month"`
	Date          time.Time      `json:"date"` // last day of the month
	Kind          EntryKind      `json:"kind"`
	Currency      money.Currency `json:"currency"`
	Memo          string         `json:"memo"`
	Lines         []JournalLine  `json:"lines"`
}

// Balanced reports whether debits equal credits.
func (e JournalEntry) Balanced() bool {
	d, c := decimal.Zero, decimal.Zero
	for _, l := range e.Lines {
		if l.Side == Debit {
			d = d.Add(l.Amount)
		} else {
			c = c.Add(l.Amount)
		}
	}
	return d.Equal(c)
}

// Journal suggests each month's entries for lines of one or more arrangements: billing, recognition and
// breakage, moving the net contract position between deferred revenue and unbilled receivable so that at
// every month end the two accounts hold exactly the Balances of the month.
func Journal(lines []Line, acc Accounts) ([]JournalEntry, error) {
	revenueBy := map[string]map[string]decimal.Decimal{} // arrangement|month -> account -> amount
	for _, l := range lines {
		if l.Revenue.IsZero() {
			continue
		}
		a, ok := acc.Revenue[l.Kind]
		if !ok {
			return nil, fmt.Errorf("journal: no revenue account for kind %q", l.Kind)
		}
		k := l.ArrangementID + "|" + l.Month.String()
		if revenueBy[k] == nil {
			revenueBy[k] = map[string]decimal.Decimal{}
		}
		revenueBy[k][a] = revenueBy[k][a].Add(l.Revenue)
	}
	var out []JournalEntry
	for _, b := range Balances(lines) {
		entry := func(kind EntryKind, memo string) JournalEntry {
			return JournalEntry{Key: fmt.Sprintf("revrec:%s:%s:%s", b.ArrangementID, b.Month, kind), ArrangementID: b.ArrangementID,
				EntityID: b.EntityID, Month: b.Month, Date: b.Month.LastDay(), Kind: kind, Currency: b.Currency, Memo: memo}
		}
		net := b.Opening
		// move returns the deferred/unbilled postings that take the net position from net to next.
		move := func(next decimal.Decimal) []JournalLine {
			d0, u0 := split(net)
			d1, u1 := split(next)
			net = next
			var ls []JournalLine
			ls = appendLine(ls, acc.DeferredRevenue, Debit, d0.Sub(d1))
			ls = appendLine(ls, acc.UnbilledReceivable, Debit, u1.Sub(u0))
			return ls
		}
		if !b.Billed.IsZero() {
			e := entry(EntryBilling, fmt.Sprintf("%s billed in %s", b.ArrangementID, b.Month))
			e.Lines = appendLine(nil, acc.Receivable, Debit, b.Billed)
			e.Lines = append(e.Lines, move(net.Add(b.Billed))...)
			out = append(out, e)
		}
		if !b.Revenue.IsZero() {
			e := entry(EntryRecognition, fmt.Sprintf("%s revenue recognized in %s", b.ArrangementID, b.Month))
			e.Lines = move(net.Sub(b.Revenue))
			rev := revenueBy[b.ArrangementID+"|"+b.Month.String()]
			accounts := make([]string, 0, len(rev))
			for a := range rev {
				accounts = append(accounts, a)
			}
			sort.Strings(accounts)
			for _, a := range accounts {
				e.Lines = appendLine(e.Lines, a, Credit, rev[a])
			}
			out = append(out, e)
		}
		if !b.Breakage.IsZero() {
			e := entry(EntryBreakage, fmt.Sprintf("%s breakage recognized in %s", b.ArrangementID, b.Month))
			e.Lines = move(net.Sub(b.Breakage))
			e.Lines = appendLine(e.Lines, acc.Breakage, Credit, b.Breakage)
			out = append(out, e)
		}
	}
	for _, e := range out {
		if !e.Balanced() {
			return nil, fmt.Errorf("journal: entry %s does not balance", e.Key)
		}
	}
	return out, nil
}

// appendLine adds a posting, flipping the side of a negative amount and dropping a zero one.
func appendLine(ls []JournalLine, account string, side Side, amount decimal.Decimal) []JournalLine {
	switch amount.Sign() {
	case 0:
		return ls
	case -1:
		amount = amount.Neg()
		if side == Debit {
			side = Credit
		} else {
			side = Debit
		}
	}
	return append(ls, JournalLine{Account: account, Side: side, Amount: amount})
}
