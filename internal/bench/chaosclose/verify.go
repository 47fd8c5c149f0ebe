package chaosclose

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/devhub"
	"github.com/revhub/revhub/workflows"
)

// Invoice is one stored invoice of the run.
type Invoice struct {
	ID, ContractID, Entity, Status, Number, Currency string
	Provider                                         string // the contract version's payment provider
	PeriodStart                                      string
	Total, AmountPaid                                decimal.Decimal
}

// Payment is one stored payment of the run.
type Payment struct {
	Key, InvoiceID, Provider, Kind, Status string
	Amount                                 decimal.Decimal
}

// Check is the latest attempt of one reconciliation check of a close.
type Check struct {
	Run, Name, Status string
}

// Observed is what the run left in PostgreSQL and at the fakes.
type Observed struct {
	Contracts int
	Invoices  []Invoice
	Payments  []Payment
	Checks    []Check
	// LedgerEntries are the ledger entry keys with their periods; Unbalanced lists entries whose
	// postings do not net to zero.
	LedgerEntries map[string]string
	Unbalanced    []string
	// ERPPosted maps a ledger entry key to the external id it was posted to NetSuite under.
	ERPPosted map[string]string
	// StripeCreates, PayPalOrders and PayPalCaptures count, per invoice id, the PaymentIntents,
	// orders and captures the fakes executed (idempotent replays and injected faults excluded).
	StripeCreates  map[string]int
	PayPalOrders   map[string]int
	PayPalCaptures map[string]int
	// NetSuiteJournals counts the fake NetSuite's journal entries per external id.
	NetSuiteJournals map[string]int
}

// Observe reads the run's records from PostgreSQL (pool: the run's database) and the fakes'
// request logs and stores (dev: where they listen).
func Observe(ctx context.Context, pool db.Querier, dev devhub.Options) (*Observed, error) {
	o := &Observed{StripeCreates: map[string]int{}, PayPalOrders: map[string]int{}, PayPalCaptures: map[string]int{}, NetSuiteJournals: map[string]int{}}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM contracts`).Scan(&o.Contracts); err != nil {
		return nil, fmt.Errorf("observe contracts: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT i.id, i.contract_id, i.billing_entity, i.status, coalesce(i.number, ''), i.currency,
		coalesce(v.payment_provider, ''), coalesce(to_char(i.period_start, 'YYYY-MM-DD'), ''), i.total::text, i.amount_paid::text
		FROM invoices i LEFT JOIN contract_versions v ON v.contract_id = i.contract_id AND v.version = i.contract_version ORDER BY i.id`)
	if err != nil {
		return nil, fmt.Errorf("observe invoices: %w", err)
	}
	o.Invoices, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Invoice, error) {
		var i Invoice
		var total, paid string
		if err := r.Scan(&i.ID, &i.ContractID, &i.Entity, &i.Status, &i.Number, &i.Currency, &i.Provider, &i.PeriodStart, &total, &paid); err != nil {
			return i, err
		}
		var err error
		if i.Total, err = decimal.NewFromString(total); err == nil {
			i.AmountPaid, err = decimal.NewFromString(paid)
		}
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("observe invoices: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT idempotency_key, invoice_id, provider, kind, status, amount::text FROM payments ORDER BY idempotency_key`)
	if err != nil {
		return nil, fmt.Errorf("observe payments: %w", err)
	}
	o.Payments, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Payment, error) {
		var p Payment
		var amt string
		if err := r.Scan(&p.Key, &p.InvoiceID, &p.Provider, &p.Kind, &p.Status, &amt); err != nil {
			return p, err
		}
		var err error
		p.Amount, err = decimal.NewFromString(amt)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("observe payments: %w", err)
	}
	// Every check of the run's own database: the closes', the intake's and the ERP syncs'.
	rows, err = pool.Query(ctx, `SELECT DISTINCT ON (run, check_name) run, check_name, status FROM recon_results
		ORDER BY run, check_name, attempt DESC`)
	if err != nil {
		return nil, fmt.Errorf("observe reconciliations: %w", err)
	}
	o.Checks, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Check, error) {
		var c Check
		return c, r.Scan(&c.Run, &c.Name, &c.Status)
	})
	if err != nil {
		return nil, fmt.Errorf("observe reconciliations: %w", err)
	}
	if o.LedgerEntries, err = queryPairs(ctx, pool, `SELECT key, period FROM ledger_entries`); err != nil {
		return nil, fmt.Errorf("observe ledger: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT DISTINCT entry_key FROM ledger_postings GROUP BY entry_key, currency HAVING sum(amount) <> 0`)
	if err != nil {
		return nil, fmt.Errorf("observe ledger balance: %w", err)
	}
	if o.Unbalanced, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, fmt.Errorf("observe ledger balance: %w", err)
	}
	if o.ERPPosted, err = queryPairs(ctx, pool, `SELECT entry_key, external_id FROM ledger_erp_postings WHERE system = 'netsuite'`); err != nil {
		return nil, fmt.Errorf("observe erp postings: %w", err)
	}

	host := "http://" + dev.FakesHost + ":"
	var stripeReqs []struct {
		Method, Path, IdempotencyKey string
		Status                       int
		Replayed, Executed           bool
	}
	if err := getJSON(ctx, host+strconv.Itoa(dev.StripePort)+"/_control/requests", &stripeReqs); err != nil {
		return nil, err
	}
	for _, r := range stripeReqs {
		if r.Method == http.MethodPost && r.Path == "/v1/payment_intents" && r.Executed && !r.Replayed {
			o.StripeCreates[invoiceOfKey(r.IdempotencyKey)]++
		}
	}
	var paypalReqs []struct {
		Method, Path, RequestID string
		Status                  int
		Replayed, Executed      bool
	}
	if err := getJSON(ctx, host+strconv.Itoa(dev.PayPalPort)+"/_control/requests", &paypalReqs); err != nil {
		return nil, err
	}
	for _, r := range paypalReqs {
		if r.Method != http.MethodPost || !r.Executed || r.Replayed {
			continue
		}
		switch {
		case r.Path == "/v2/checkout/orders":
			o.PayPalOrders[invoiceOfKey(r.RequestID)]++
		case strings.HasSuffix(r.Path, "/capture"):
			o.PayPalCaptures[invoiceOfKey(r.RequestID)]++
		}
	}
	var journals []netsuite.JournalEntry
	if err := getJSON(ctx, host+strconv.Itoa(dev.NetSuitePort)+"/__fake/journal-entries", &journals); err != nil {
		return nil, err
	}
	for _, je := range journals {
		o.NetSuiteJournals[je.ExternalID]++
	}
	return o, nil
}

// Verify lists every failed expectation of a chaos run: the kills happened, each close completed
// green with every step done, every reconciliation's latest attempt is green, one invoice per
// contract and period with gap-free numbers per series, every invoice with an amount due paid by
// exactly one succeeded charge that the provider executed exactly once (bank-transfer invoices
// awaiting the transfer, with no charge), every invoice and payment in the ledger once and
// balanced, and every ledger entry up to the closed period posted to NetSuite exactly once.
func Verify(r *Report, o *Observed, wantKills int) []string {
	var diffs []string
	diff := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if len(r.Kills) < wantKills {
		diff("worker killed %d times, want %d: the closes finished first (shorten the time between kills)", len(r.Kills), wantKills)
	}
	for _, e := range r.Entities {
		st, ok := r.Closes[e]
		if !ok {
			diff("close %s: no result", e)
			continue
		}
		if !st.Done || st.Recon != workflows.CloseReconGreen {
			diff("close %s: done=%v recon=%s, want done and green", e, st.Done, st.Recon)
		}
		for _, s := range st.Steps {
			if s.State != workflows.StepDone {
				diff("close %s: step %s is %s, want done", e, s.Name, s.State)
			}
		}
		if len(st.Decisions) > 0 {
			diff("close %s: %d decisions were needed, want none", e, len(st.Decisions))
		}
	}
	if len(o.Checks) == 0 {
		diff("no reconciliation results stored")
	}
	for _, c := range o.Checks {
		if c.Status != "green" {
			diff("reconciliation %s %s: %s, want green", c.Run, c.Name, c.Status)
		}
	}

	// Invoices: one per contract and period; numbers gap-free per series.
	if len(o.Invoices) == 0 {
		diff("no invoices")
	}
	perCycle := map[string]int{}
	series := map[string][]int{}
	for _, inv := range o.Invoices {
		perCycle[inv.ContractID+"@"+inv.PeriodStart]++
		if inv.Number == "" {
			diff("invoice %s (%s): not numbered (status %s)", inv.ID, inv.ContractID, inv.Status)
			continue
		}
		i := strings.LastIndex(inv.Number, "-")
		n, err := strconv.Atoi(inv.Number[i+1:])
		if i < 0 || err != nil {
			diff("invoice %s: number %q has no sequence", inv.ID, inv.Number)
			continue
		}
		series[inv.Number[:i]] = append(series[inv.Number[:i]], n)
	}
	for _, k := range slices.Sorted(maps.Keys(perCycle)) {
		if perCycle[k] != 1 {
			diff("contract cycle %s: %d invoices, want 1", k, perCycle[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(series)) {
		ns := series[k]
		slices.Sort(ns)
		for i, n := range ns {
			if n != i+1 {
				diff("invoice series %s: numbers %v are not 1..%d without gaps", k, ns, len(ns))
				break
			}
		}
	}

	// Hand-computed totals of the original demo deals.
	for _, e := range ExpectedTotals() {
		var got []Invoice
		for _, inv := range o.Invoices {
			if inv.ContractID == e.ContractID {
				got = append(got, inv)
			}
		}
		if len(got) != 1 || !got[0].Total.Equal(e.Total) || got[0].Currency != e.Currency {
			var totals []string
			for _, g := range got {
				totals = append(totals, g.Total.String()+" "+g.Currency)
			}
			diff("contract %s: invoice totals %v, want one of %s %s (%s)", e.ContractID, totals, e.Total.StringFixed(2), e.Currency, e.Why)
		}
	}

	// Charges: exactly one succeeded payment per invoice due, executed once at its provider.
	pays := map[string][]Payment{}
	for _, p := range o.Payments {
		pays[p.InvoiceID] = append(pays[p.InvoiceID], p)
	}
	entries := o.LedgerEntries
	charged := map[string]bool{}
	for _, inv := range o.Invoices {
		if _, ok := entries["invoice:"+inv.ID+":finalized"]; !ok {
			diff("invoice %s: no ledger entry invoice:%s:finalized", inv.ID, inv.ID)
		}
		if inv.Provider == "bank" { // paid by transfer against the remittance details: nothing is charged
			if n := o.StripeCreates[inv.ID] + o.PayPalOrders[inv.ID]; inv.Status != "finalized" || len(pays[inv.ID]) != 0 || n != 0 {
				diff("invoice %s (%s, bank transfer): %s with %d payments and %d provider charges; want finalized, awaiting the transfer",
					inv.ID, inv.ContractID, inv.Status, len(pays[inv.ID]), n)
			}
			continue
		}
		if inv.Total.IsZero() {
			if len(pays[inv.ID]) != 0 {
				diff("invoice %s: zero total but %d payments", inv.ID, len(pays[inv.ID]))
			}
			continue
		}
		if inv.Status != "paid" || !inv.AmountPaid.Equal(inv.Total) {
			diff("invoice %s (%s): %s, paid %s of %s %s; want paid in full", inv.ID, inv.ContractID, inv.Status, inv.AmountPaid, inv.Total, inv.Currency)
		}
		var ok []Payment
		for _, p := range pays[inv.ID] {
			if p.Kind == "charge" && p.Status == "succeeded" {
				ok = append(ok, p)
			}
		}
		if len(ok) != 1 || len(pays[inv.ID]) != 1 {
			diff("invoice %s: %d payments, %d succeeded charges; want exactly 1", inv.ID, len(pays[inv.ID]), len(ok))
			continue
		}
		p := ok[0]
		charged[inv.ID] = true
		if !p.Amount.Equal(inv.Total) {
			diff("invoice %s: charged %s, total %s", inv.ID, p.Amount, inv.Total)
		}
		for _, at := range []struct {
			provider string
			n        int
		}{{"stripe", o.StripeCreates[inv.ID]}, {"paypal", o.PayPalOrders[inv.ID]}} {
			want := 0
			if at.provider == p.Provider {
				want = 1
			}
			if at.n != want {
				diff("invoice %s: %s executed %d charges, want %d", inv.ID, at.provider, at.n, want)
			}
		}
		if n := o.PayPalCaptures[inv.ID]; n > 1 {
			diff("invoice %s: paypal executed %d captures, want at most 1", inv.ID, n)
		}
		if _, ok := entries["payment:"+activities.LedgerPaymentID(p.Key)+":captured"]; !ok {
			diff("payment %s: no ledger entry", p.Key)
		}
	}
	for _, inv := range slices.Sorted(maps.Keys(o.StripeCreates)) {
		if !charged[inv] {
			diff("stripe executed %d charges for %q, which has no succeeded payment", o.StripeCreates[inv], inv)
		}
	}
	for _, inv := range slices.Sorted(maps.Keys(o.PayPalOrders)) {
		if !charged[inv] {
			diff("paypal executed %d orders for %q, which has no succeeded payment", o.PayPalOrders[inv], inv)
		}
	}

	// Ledger and ERP: balanced entries, each posted to NetSuite exactly once.
	for _, k := range o.Unbalanced {
		diff("ledger entry %s does not balance", k)
	}
	for _, k := range slices.Sorted(maps.Keys(o.LedgerEntries)) {
		ext, ok := o.ERPPosted[k]
		if !ok {
			if o.LedgerEntries[k] <= r.Period { // later, still open periods go with the next scheduled sync
				diff("ledger entry %s (%s): not posted to NetSuite", k, o.LedgerEntries[k])
			}
			continue
		}
		if n := o.NetSuiteJournals[ext]; n != 1 {
			diff("ledger entry %s: %d NetSuite journal entries with external id %s, want 1", k, n, ext)
		}
	}
	posted := map[string]bool{}
	for _, ext := range o.ERPPosted {
		posted[ext] = true
	}
	for _, ext := range slices.Sorted(maps.Keys(o.NetSuiteJournals)) {
		if !posted[ext] {
			diff("NetSuite journal entry %s matches no ledger entry", ext)
		}
	}
	return diffs
}

// invoiceOfKey returns the invoice id of a payment key "invoice:{id}:charge:{n}[:capture]".
func invoiceOfKey(key string) string {
	rest, ok := strings.CutPrefix(key, "invoice:")
	if !ok {
		return key
	}
	if i := strings.Index(rest, ":charge:"); i >= 0 {
		return rest[:i]
	}
	return rest
}

// queryPairs runs a two-column text query into a map from the first column to the second.
func queryPairs(ctx context.Context, q db.Querier, sql string) (map[string]string, error) {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		out[k] = v
		return nil
	})
	return out, err
}

func getJSON(ctx context.Context, u string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("observe %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("observe %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("observe %s: %w", u, err)
	}
	return nil
}
