package invoicerun

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/activities"
	rstripe "github.com/revhub/revhub/connectors/stripe"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/money"
)

// Ledger accounts of the default chart the verification reads.
const (
	accountReceivable   = "1100"
	accountStripeClear  = "1210"
	accountPayPalClear  = "1220"
	workflowBilling     = "BillingCycle"
	workflowCollect     = "Collect"
	maxListedDifference = 20
)

// ObservedInvoice is one stored invoice of the run.
type ObservedInvoice struct {
	ID, ContractID, Status, Currency, Number string
	Total, AmountPaid                        decimal.Decimal
}

// ObservedPayment is one stored payment of the run.
type ObservedPayment struct {
	Key, InvoiceID, Provider, Kind, Status, Currency string
	Amount                                           decimal.Decimal
}

// Observed is what a run left behind: in PostgreSQL, at the payment fakes and in Temporal.
type Observed struct {
	Invoices map[string]ObservedInvoice   // by contract id
	Payments map[string][]ObservedPayment // by invoice id
	// Ledger is the net (debits minus credits) of the run's postings by account and currency.
	Ledger map[string]map[money.Currency]decimal.Decimal
	// EntryKeys are the run's ledger entry keys.
	EntryKeys map[string]bool
	// Charges counts charges created at each provider per invoice id: "stripe" and "paypal".
	Charges map[string]map[string]int
	// Workflows counts closed workflows by type and close status (e.g. "BillingCycle" -> "Completed").
	Workflows map[string]map[string]int
}

// Observe reads the run's invoices, payments and ledger postings (contracts with the run's prefix)
// and the charges recorded by the fakes.
func Observe(ctx context.Context, q db.Querier, g *Generator, f *Fakes) (*Observed, error) {
	o := &Observed{Invoices: map[string]ObservedInvoice{}, Payments: map[string][]ObservedPayment{},
		Ledger: map[string]map[money.Currency]decimal.Decimal{}, EntryKeys: map[string]bool{},
		Charges: map[string]map[string]int{}, Workflows: map[string]map[string]int{}}
	like := "b" + g.Run + "-ctr-%"
	rows, err := q.Query(ctx, `SELECT id, contract_id, status, currency, coalesce(number, ''), total::text, amount_paid::text
		FROM invoices WHERE contract_id LIKE $1`, like)
	if err != nil {
		return nil, fmt.Errorf("observe invoices: %w", err)
	}
	invs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ObservedInvoice, error) {
		var i ObservedInvoice
		var total, paid string
		if err := r.Scan(&i.ID, &i.ContractID, &i.Status, &i.Currency, &i.Number, &total, &paid); err != nil {
			return i, err
		}
		i.Total, err = decimal.NewFromString(total)
		if err == nil {
			i.AmountPaid, err = decimal.NewFromString(paid)
		}
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("observe invoices: %w", err)
	}
	for _, i := range invs {
		if _, dup := o.Invoices[i.ContractID]; dup {
			return nil, fmt.Errorf("observe invoices: contract %s has more than one invoice", i.ContractID)
		}
		o.Invoices[i.ContractID] = i
	}

	rows, err = q.Query(ctx, `SELECT p.idempotency_key, p.invoice_id, p.provider, p.kind, p.status, p.currency, p.amount::text
		FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE i.contract_id LIKE $1`, like)
	if err != nil {
		return nil, fmt.Errorf("observe payments: %w", err)
	}
	pays, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ObservedPayment, error) {
		var p ObservedPayment
		var amt string
		if err := r.Scan(&p.Key, &p.InvoiceID, &p.Provider, &p.Kind, &p.Status, &p.Currency, &amt); err != nil {
			return p, err
		}
		p.Amount, err = decimal.NewFromString(amt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("observe payments: %w", err)
	}
	for _, p := range pays {
		o.Payments[p.InvoiceID] = append(o.Payments[p.InvoiceID], p)
	}

	rows, err = q.Query(ctx, `SELECT account, currency, sum(amount)::text, array_agg(DISTINCT entry_key)
		FROM ledger_postings WHERE contract LIKE $1 GROUP BY account, currency`, like)
	if err != nil {
		return nil, fmt.Errorf("observe ledger: %w", err)
	}
	type net struct {
		account, currency, sum string
		keys                   []string
	}
	nets, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (net, error) {
		var n net
		return n, r.Scan(&n.account, &n.currency, &n.sum, &n.keys)
	})
	if err != nil {
		return nil, fmt.Errorf("observe ledger: %w", err)
	}
	for _, n := range nets {
		v, err := decimal.NewFromString(n.sum)
		if err != nil {
			return nil, fmt.Errorf("observe ledger: %s %s: %w", n.account, n.currency, err)
		}
		if o.Ledger[n.account] == nil {
			o.Ledger[n.account] = map[money.Currency]decimal.Decimal{}
		}
		o.Ledger[n.account][money.Currency(n.currency)] = v
		for _, k := range n.keys {
			o.EntryKeys[k] = true
		}
	}

	if f != nil {
		for _, pi := range f.Stripe.PaymentIntents() {
			md, _ := pi["metadata"].(map[string]any)
			inv, _ := md[rstripe.MetaInvoiceID].(string)
			o.addCharge(inv, "stripe")
		}
		for _, id := range f.PayPal.Captures() {
			raw, _ := f.PayPal.Capture(id)
			var c struct {
				InvoiceID string `json:"invoice_id"`
			}
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, fmt.Errorf("observe paypal capture %s: %w", id, err)
			}
			o.addCharge(c.InvoiceID, "paypal")
		}
	}
	return o, nil
}

func (o *Observed) addCharge(invoiceID, prov string) {
	if o.Charges[invoiceID] == nil {
		o.Charges[invoiceID] = map[string]int{}
	}
	o.Charges[invoiceID][prov]++
}

// Clone returns a deep copy, so a check can be tried against a tampered copy.
func (o *Observed) Clone() *Observed {
	c := &Observed{Invoices: map[string]ObservedInvoice{}, Payments: map[string][]ObservedPayment{},
		Ledger: map[string]map[money.Currency]decimal.Decimal{}, EntryKeys: map[string]bool{},
		Charges: map[string]map[string]int{}, Workflows: map[string]map[string]int{}}
	for k, v := range o.Invoices {
		c.Invoices[k] = v
	}
	for k, v := range o.Payments {
		c.Payments[k] = append([]ObservedPayment(nil), v...)
	}
	for k, v := range o.Ledger {
		c.Ledger[k] = map[money.Currency]decimal.Decimal{}
		for cur, n := range v {
			c.Ledger[k][cur] = n
		}
	}
	for k, v := range o.EntryKeys {
		c.EntryKeys[k] = v
	}
	for k, v := range o.Charges {
		c.Charges[k] = map[string]int{}
		for p, n := range v {
			c.Charges[k][p] = n
		}
	}
	for k, v := range o.Workflows {
		c.Workflows[k] = map[string]int{}
		for s, n := range v {
			c.Workflows[k][s] = n
		}
	}
	return c
}

// Verification is the outcome of comparing a run with the generator's expectations.
type Verification struct {
	Differences []string // every difference found, in a stable order
	Invoices    int      // paid invoices with the expected total
	Payments    int      // succeeded payments matching their invoice
	// Expected and Booked are the expected and the ledger's receivable-settled totals per currency.
	Expected map[money.Currency]decimal.Decimal
	Booked   map[money.Currency]decimal.Decimal
}

// OK reports whether the run matched exactly.
func (v *Verification) OK() bool { return len(v.Differences) == 0 }

// Compare checks the run exactly: one paid invoice per contract with the generator's total, one
// succeeded payment of that amount through the contract's provider, one charge at that provider's
// fake and none at the other, both ledger entries per contract, the ledger balanced per currency,
// receivables settled, cash clearing per provider and revenue equal to the expected sums, and every
// BillingCycle and Collect workflow completed (when workflows were observed).
func Compare(plans []Planned, o *Observed, checkWorkflows bool) *Verification {
	v := &Verification{Expected: map[money.Currency]decimal.Decimal{}, Booked: map[money.Currency]decimal.Decimal{}}
	diff := func(format string, args ...any) { v.Differences = append(v.Differences, fmt.Sprintf(format, args...)) }
	clearing := map[string]map[money.Currency]decimal.Decimal{accountStripeClear: {}, accountPayPalClear: {}}
	seen := map[string]bool{}
	for _, p := range plans {
		id := p.Version.ContractID
		v.Expected[p.Currency] = v.Expected[p.Currency].Add(p.Expected)
		clear := accountStripeClear
		if p.Provider == "paypal" {
			clear = accountPayPalClear
		}
		clearing[clear][p.Currency] = clearing[clear][p.Currency].Add(p.Expected)
		inv, ok := o.Invoices[id]
		if !ok {
			diff("contract %s: no invoice", id)
			continue
		}
		seen[id] = true
		switch {
		case inv.Status != "paid":
			diff("contract %s: invoice %s is %s, want paid", id, inv.ID, inv.Status)
		case !inv.Total.Equal(p.Expected) || inv.Currency != string(p.Currency):
			diff("contract %s: invoice %s total %s %s, want %s %s", id, inv.ID, inv.Total, inv.Currency, p.Expected, p.Currency)
		case !inv.AmountPaid.Equal(inv.Total):
			diff("contract %s: invoice %s paid %s of %s", id, inv.ID, inv.AmountPaid, inv.Total)
		default:
			v.Invoices++
		}
		pays := o.Payments[inv.ID]
		good := 0
		for _, pay := range pays {
			if pay.Kind == "charge" && pay.Status == "succeeded" && pay.Provider == string(p.Provider) && pay.Amount.Equal(p.Expected) && pay.Currency == string(p.Currency) {
				good++
			}
		}
		if good != 1 || len(pays) != 1 {
			diff("contract %s: invoice %s has %d payments (%d succeeded %s charges of %s), want exactly 1", id, inv.ID, len(pays), good, p.Provider, p.Expected)
		} else {
			v.Payments++
		}
		other := "paypal"
		if p.Provider == "paypal" {
			other = "stripe"
		}
		if c := o.Charges[inv.ID]; c[string(p.Provider)] != 1 || c[other] != 0 {
			diff("contract %s: invoice %s has %d charges at %s and %d at %s, want 1 and 0", id, inv.ID, c[string(p.Provider)], p.Provider, c[other], other)
		}
		if !o.EntryKeys["invoice:"+inv.ID+":finalized"] {
			diff("contract %s: ledger entry invoice:%s:finalized missing", id, inv.ID)
		}
		for _, pay := range pays {
			if key := "payment:" + activities.LedgerPaymentID(pay.Key) + ":captured"; pay.Status == "succeeded" && !o.EntryKeys[key] {
				diff("contract %s: ledger entry %s missing", id, key)
			}
		}
	}
	if extra := len(o.Invoices) - len(seen); extra > 0 {
		diff("%d invoices belong to no planned contract", extra)
	}

	// Ledger: balanced per currency, receivable settled, clearing and revenue equal to the expectations.
	total := map[money.Currency]decimal.Decimal{}
	for _, byCur := range o.Ledger {
		for cur, n := range byCur {
			total[cur] = total[cur].Add(n)
		}
	}
	for _, cur := range currencies(total) {
		if !total[cur].IsZero() {
			diff("ledger: the run's postings in %s sum to %s, want 0", cur, total[cur])
		}
	}
	for _, cur := range currencies(o.Ledger[accountReceivable]) {
		if n := o.Ledger[accountReceivable][cur]; !n.IsZero() {
			diff("ledger: receivable (%s) in %s is %s after collection, want 0", accountReceivable, cur, n)
		}
	}
	for _, acct := range []string{accountStripeClear, accountPayPalClear} {
		for _, cur := range currencies(clearing[acct], o.Ledger[acct]) {
			if got, want := o.Ledger[acct][cur], clearing[acct][cur]; !got.Equal(want) {
				diff("ledger: cash clearing %s in %s is %s, want %s", acct, cur, got, want)
			}
		}
	}
	for acct, byCur := range o.Ledger {
		if acct == accountReceivable || acct == accountStripeClear || acct == accountPayPalClear {
			continue
		}
		for cur, n := range byCur {
			v.Booked[cur] = v.Booked[cur].Sub(n) // credits to revenue, deferred revenue and unbilled are negative nets
		}
	}
	for _, cur := range currencies(v.Expected, v.Booked) {
		if !v.Booked[cur].Equal(v.Expected[cur]) {
			diff("ledger: %s invoiced to revenue accounts in %s, want %s", v.Booked[cur], cur, v.Expected[cur])
		}
	}
	if checkWorkflows {
		for _, wf := range []string{workflowBilling, workflowCollect} {
			byStatus := o.Workflows[wf]
			for _, st := range slices.Sorted(maps.Keys(byStatus)) {
				if st != "Completed" && byStatus[st] > 0 {
					diff("workflows: %d %s ended %s", byStatus[st], wf, st)
				}
			}
			// Every contract has its cycle; a Collect child exists only where the cycle's own
			// first charge did not settle the invoice.
			if n := byStatus["Completed"]; wf == workflowBilling && n != len(plans) {
				diff("workflows: %d %s completed, want %d", n, wf, len(plans))
			}
		}
	}
	return v
}

func currencies(ms ...map[money.Currency]decimal.Decimal) []money.Currency {
	set := map[money.Currency]bool{}
	for _, m := range ms {
		for c := range m {
			set[c] = true
		}
	}
	out := make([]money.Currency, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
