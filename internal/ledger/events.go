package ledger

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
)

// Pure builders turning business events into journal entries, one per row of the posting table
// in docs/ledger.md. Each derives the entry key from the event, so a repeated event posts nothing new.

// Treatment says which account an invoice line's amount is credited to.
type Treatment string

// Invoice line treatments.
const (
	BilledInAdvance  Treatment = "billed_in_advance"  // fee for a future service period: deferred revenue
	UsageRecognized  Treatment = "usage_recognized"   // usage already recognized at period end: unbilled receivable
	RecognizedAsBill Treatment = "recognized_as_bill" // right-to-invoice expedient: revenue of the product
)

// Party identifies who and where an event books: entity (subsidiary), customer, contract.
type Party struct {
	Entity   string
	Customer string
	Contract string
}

// InvoiceLine is one line of a finalized invoice as the ledger sees it.
type InvoiceLine struct {
	Product   string
	Amount    decimal.Decimal // may be negative for a discount line
	Treatment Treatment
}

// Invoice is a finalized invoice.
type Invoice struct {
	ID string
	Party
	Date     time.Time
	Currency money.Currency
	Lines    []InvoiceLine
}

// InvoiceFinalized debits receivable with the invoice total and credits each line by its treatment.
func InvoiceFinalized(ch *Chart, inv Invoice) (Entry, error) {
	var ps problems
	checkHeader(&ps, "id", inv.ID, inv.Party, inv.Date, inv.Currency)
	b := newBuilder(ch, "invoice:"+inv.ID+":finalized", inv.Party, inv.Date, inv.Currency, "invoice "+inv.ID+" finalized")
	total := decimal.Zero
	for i, l := range inv.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		checkAmount(&ps, f+".amount", l.Amount, inv.Currency, true)
		var acct string
		switch l.Treatment {
		case BilledInAdvance:
			acct = ch.RoleAccount(RoleDeferredRevenue)
		case UsageRecognized:
			acct = ch.RoleAccount(RoleUnbilled)
		case RecognizedAsBill:
			acct = ch.RevenueAccount(l.Product)
		default:
			ps.Add(f+".treatment", "%q is not one of billed_in_advance, usage_recognized, recognized_as_bill", l.Treatment)
		}
		b.credit(acct, l.Amount, l.Product)
		total = total.Add(l.Amount)
	}
	if len(inv.Lines) == 0 {
		ps.Add("lines", "an invoice needs at least one line")
	}
	if total.IsNegative() {
		ps.Add("lines", "total %s is negative: issue a credit note instead", total)
	}
	if err := ps.Err("", "invoice "+inv.ID); err != nil {
		return Entry{}, err
	}
	b.debitFirst(ch.RoleAccount(RoleReceivable), total, "")
	return b.entry()
}

// Payment is money captured by a payment provider against a customer's receivable.
type Payment struct {
	ID       string
	Provider string // stripe, paypal, bank
	Party
	Date     time.Time
	Currency money.Currency
	Amount   decimal.Decimal
	Fee      decimal.Decimal // provider fee withheld, zero when none
}

// PaymentCaptured debits the provider's cash clearing account and credits receivable.
func PaymentCaptured(ch *Chart, p Payment) (Entry, error) {
	var ps problems
	checkHeader(&ps, "id", p.ID, p.Party, p.Date, p.Currency)
	checkAmount(&ps, "amount", p.Amount, p.Currency, false)
	clearing := clearingAccount(&ps, ch, p.Provider)
	if err := ps.Err("", "payment "+p.ID); err != nil {
		return Entry{}, err
	}
	b := newBuilder(ch, "payment:"+p.ID+":captured", p.Party, p.Date, p.Currency, p.Provider+" payment "+p.ID+" captured")
	b.debit(clearing, p.Amount, "")
	b.credit(ch.RoleAccount(RoleReceivable), p.Amount, "")
	return b.entry()
}

// ProviderFee debits payment processing fees and credits the provider's cash clearing account.
func ProviderFee(ch *Chart, p Payment) (Entry, error) {
	var ps problems
	checkHeader(&ps, "id", p.ID, p.Party, p.Date, p.Currency)
	checkAmount(&ps, "fee", p.Fee, p.Currency, false)
	clearing := clearingAccount(&ps, ch, p.Provider)
	if err := ps.Err("", "payment fee "+p.ID); err != nil {
		return Entry{}, err
	}
	b := newBuilder(ch, "payment:"+p.ID+":fee", p.Party, p.Date, p.Currency, p.Provider+" fee on payment "+p.ID)
	b.debit(ch.RoleAccount(RoleFees), p.Fee, "")
	b.credit(clearing, p.Fee, "")
	return b.entry()
}

// Payout is a provider's settlement of cleared funds to the bank.
type Payout struct {
	ID       string
	Provider string
	Entity   string
	Date     time.Time
	Currency money.Currency
	Amount   decimal.Decimal
}

// PayoutSettled debits the bank and credits the provider's cash clearing account.
func PayoutSettled(ch *Chart, p Payout) (Entry, error) {
	var ps problems
	checkHeader(&ps, "id", p.ID, Party{Entity: p.Entity}, p.Date, p.Currency)
	checkAmount(&ps, "amount", p.Amount, p.Currency, false)
	clearing := clearingAccount(&ps, ch, p.Provider)
	if err := ps.Err("", "payout "+p.ID); err != nil {
		return Entry{}, err
	}
	b := newBuilder(ch, "payout:"+p.ID+":settled", Party{Entity: p.Entity}, p.Date, p.Currency, p.Provider+" payout "+p.ID+" settled")
	b.debit(ch.RoleAccount(RoleBank), p.Amount, "")
	b.credit(clearing, p.Amount, "")
	return b.entry()
}

// RecognizedFrom says which balance sheet account revenue is released from.
type RecognizedFrom string

// Sources of recognized revenue.
const (
	FromDeferred RecognizedFrom = "deferred" // billed in advance, now earned
	FromUnbilled RecognizedFrom = "unbilled" // earned before it is invoiced (usage at period end)
)

// Recognition is the revenue of one performance obligation recognized for one month.
type Recognition struct {
	Obligation string
	Month      string // "YYYY-MM"; the entry is dated on the month's last day
	Party
	Product  string
	Currency money.Currency
	Amount   decimal.Decimal
	From     RecognizedFrom
}

// RevenueRecognized debits deferred revenue (or unbilled receivable) and credits the product's revenue.
func RevenueRecognized(ch *Chart, r Recognition) (Entry, error) {
	var ps problems
	first, err := ParsePeriod(r.Month)
	if err != nil {
		ps.Add("month", "%v", err)
	}
	date := first.AddDate(0, 1, -1)
	checkHeader(&ps, "obligation", r.Obligation, r.Party, date, r.Currency)
	checkAmount(&ps, "amount", r.Amount, r.Currency, false)
	var from string
	switch r.From {
	case FromDeferred:
		from = ch.RoleAccount(RoleDeferredRevenue)
	case FromUnbilled:
		from = ch.RoleAccount(RoleUnbilled)
	default:
		ps.Add("from", "%q is not deferred or unbilled", r.From)
	}
	if err := ps.Err("", "recognition "+r.Obligation); err != nil {
		return Entry{}, err
	}
	b := newBuilder(ch, "revrec:"+r.Obligation+":"+r.Month, r.Party, date, r.Currency, "revenue recognized for "+r.Obligation+" in "+r.Month)
	b.debit(from, r.Amount, r.Product)
	b.credit(ch.RevenueAccount(r.Product), r.Amount, r.Product)
	return b.entry()
}

// Against says what a credit note line reduces.
type Against string

// Credit note line targets.
const (
	AgainstRevenue  Against = "revenue"  // revenue already recognized: credit-note contra account
	AgainstDeferred Against = "deferred" // still deferred: reduces deferred revenue
)

// CreditNoteLine is one line of a credit note.
type CreditNoteLine struct {
	Product string
	Amount  decimal.Decimal // positive
	Against Against
}

// CreditNote reduces what a customer owes.
type CreditNote struct {
	ID        string
	InvoiceID string
	Party
	Date     time.Time
	Currency money.Currency
	Lines    []CreditNoteLine
}

// CreditNoteIssued debits the credit-note contra account (or deferred revenue) and credits receivable.
func CreditNoteIssued(ch *Chart, cn CreditNote) (Entry, error) {
	var ps problems
	checkHeader(&ps, "id", cn.ID, cn.Party, cn.Date, cn.Currency)
	b := newBuilder(ch, "credit_note:"+cn.ID+":issued", cn.Party, cn.Date, cn.Currency, "credit note "+cn.ID+" on invoice "+cn.InvoiceID)
	total := decimal.Zero
	for i, l := range cn.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		checkAmount(&ps, f+".amount", l.Amount, cn.Currency, false)
		switch l.Against {
		case AgainstRevenue:
			b.debit(ch.RoleAccount(RoleCreditNoteContra), l.Amount, l.Product)
		case AgainstDeferred:
			b.debit(ch.RoleAccount(RoleDeferredRevenue), l.Amount, l.Product)
		default:
			ps.Add(f+".against", "%q is not revenue or deferred", l.Against)
		}
		total = total.Add(l.Amount)
	}
	if len(cn.Lines) == 0 {
		ps.Add("lines", "a credit note needs at least one line")
	}
	if err := ps.Err("", "credit note "+cn.ID); err != nil {
		return Entry{}, err
	}
	b.credit(ch.RoleAccount(RoleReceivable), total, "")
	return b.entry()
}

// CreditGrant is a prepaid credit balance event: purchase, consumption or expiry.
type CreditGrant struct {
	GrantID string
	Party
	Product  string // the product consumption is recognized as
	Date     time.Time
	Currency money.Currency
	Amount   decimal.Decimal
}

// PrepaidCreditsPurchased debits receivable and credits deferred revenue.
func PrepaidCreditsPurchased(ch *Chart, g CreditGrant) (Entry, error) {
	return creditGrant(ch, g, "credits:"+g.GrantID+":purchased", "prepaid credits "+g.GrantID+" purchased",
		ch.RoleAccount(RoleReceivable), ch.RoleAccount(RoleDeferredRevenue))
}

// PrepaidCreditsConsumed debits deferred revenue and credits the product's revenue; one entry per
// grant and consumption period (the Date's month).
func PrepaidCreditsConsumed(ch *Chart, g CreditGrant) (Entry, error) {
	return creditGrant(ch, g, "credits:"+g.GrantID+":consumed:"+PeriodOf(g.Date), "prepaid credits "+g.GrantID+" consumed",
		ch.RoleAccount(RoleDeferredRevenue), ch.RevenueAccount(g.Product))
}

// PrepaidCreditsExpired debits deferred revenue and credits breakage revenue.
func PrepaidCreditsExpired(ch *Chart, g CreditGrant) (Entry, error) {
	return creditGrant(ch, g, "credits:"+g.GrantID+":expired", "prepaid credits "+g.GrantID+" expired",
		ch.RoleAccount(RoleDeferredRevenue), ch.RoleAccount(RoleBreakage))
}

func creditGrant(ch *Chart, g CreditGrant, key, memo, debit, credit string) (Entry, error) {
	var ps problems
	checkHeader(&ps, "grant_id", g.GrantID, g.Party, g.Date, g.Currency)
	checkAmount(&ps, "amount", g.Amount, g.Currency, false)
	if err := ps.Err("", "credit grant "+g.GrantID); err != nil {
		return Entry{}, err
	}
	b := newBuilder(ch, key, g.Party, g.Date, g.Currency, memo)
	b.debit(debit, g.Amount, g.Product)
	b.credit(credit, g.Amount, g.Product)
	return b.entry()
}

// Shortfall is a minimum-commit shortfall billed for a contract period.
type Shortfall struct {
	Period string // the commitment period, e.g. "2026" or "2026-Q4"; part of the key
	Party
	Date     time.Time
	Currency money.Currency
	Amount   decimal.Decimal
}

// CommitShortfall debits receivable and credits commit true-up revenue.
func CommitShortfall(ch *Chart, s Shortfall) (Entry, error) {
	var ps problems
	checkHeader(&ps, "period", s.Period, s.Party, s.Date, s.Currency)
	if s.Contract == "" {
		ps.Add("contract", "is required")
	}
	checkAmount(&ps, "amount", s.Amount, s.Currency, false)
	if err := ps.Err("", "commit shortfall "+s.Contract); err != nil {
		return Entry{}, err
	}
	b := newBuilder(ch, "commit:"+s.Contract+":"+s.Period+":shortfall", s.Party, s.Date, s.Currency,
		"minimum commit shortfall of "+s.Contract+" for "+s.Period)
	b.debit(ch.RoleAccount(RoleReceivable), s.Amount, "")
	b.credit(ch.RoleAccount(RoleCommitTrueUp), s.Amount, "")
	return b.entry()
}

func checkHeader(ps *problems, idField, id string, p Party, date time.Time, cur money.Currency) {
	if id == "" || strings.ContainsAny(id, " \t\n:") {
		ps.Add(idField, "%q must be non-empty without spaces or ':'", id)
	}
	if p.Entity == "" {
		ps.Add("entity", "is required")
	}
	if date.IsZero() {
		ps.Add("date", "is required")
	}
	if !cur.Valid() {
		ps.Add("currency", "%q is not a supported ISO 4217 currency", cur)
	}
}

func checkAmount(ps *problems, field string, a decimal.Decimal, cur money.Currency, allowNegative bool) {
	switch {
	case !allowNegative && !a.IsPositive():
		ps.Add(field, "%s must be positive", a)
	case cur.Valid() && !money.IsRounded(a, cur):
		ps.Add(field, "%s has more decimals than %s allows", a, cur)
	}
}

func clearingAccount(ps *problems, ch *Chart, provider string) string {
	code, err := ch.ClearingAccount(provider)
	if err != nil {
		ps.Add("provider", "%q has no cash clearing account in the chart", provider)
	}
	return code
}

// builder accumulates postings; a negative amount goes to the other side, zero amounts are dropped.
type builder struct {
	ch *Chart
	e  Entry
	p  Party
	c  money.Currency
}

func newBuilder(ch *Chart, key string, p Party, date time.Time, cur money.Currency, memo string) *builder {
	return &builder{ch: ch, p: p, c: cur, e: Entry{Key: key, Entity: p.Entity, Date: civil(date), Memo: memo}}
}

func (b *builder) posting(acct string, side Side, amount decimal.Decimal, product string) Posting {
	if amount.IsNegative() {
		side, amount = map[Side]Side{Debit: Credit, Credit: Debit}[side], amount.Neg()
	}
	return Posting{Account: acct, Side: side, Amount: amount, Currency: b.c,
		Dimensions: Dimensions{Customer: b.p.Customer, Product: product, Contract: b.p.Contract}}
}

func (b *builder) debit(acct string, amount decimal.Decimal, product string) {
	if !amount.IsZero() {
		b.e.Postings = append(b.e.Postings, b.posting(acct, Debit, amount, product))
	}
}

func (b *builder) credit(acct string, amount decimal.Decimal, product string) {
	if !amount.IsZero() {
		b.e.Postings = append(b.e.Postings, b.posting(acct, Credit, amount, product))
	}
}

// debitFirst puts the debit before the postings added so far (receivable leads an invoice entry).
func (b *builder) debitFirst(acct string, amount decimal.Decimal, product string) {
	if !amount.IsZero() {
		b.e.Postings = append([]Posting{b.posting(acct, Debit, amount, product)}, b.e.Postings...)
	}
}

func (b *builder) entry() (Entry, error) {
	if len(b.e.Postings) == 0 {
		return Entry{}, fmt.Errorf("entry %s: %w", b.e.Key, ErrNothingToPost)
	}
	if err := b.e.Validate(b.ch); err != nil {
		return Entry{}, err
	}
	return b.e, nil
}
