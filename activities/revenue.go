package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/revrec"
)

// ErrClosedPeriodChanged is the non-retryable error type of a run whose schedule would change a closed month.
const ErrClosedPeriodChanged = "ClosedPeriodChanged"

// Revenue holds the revenue recognition activities: the monthly run that computes each contract's
// ASC 606 schedule and posts its recognition and breakage entries to the ledger.
type Revenue struct {
	deps *Deps
}

// AmendmentMethod is revenue ops' accounting choice for one contract amendment (ASC 606-10-25-13).
type AmendmentMethod struct {
	ContractID string `json:"contract_id"`
	Version    int    `json:"version"`
	Method     string `json:"method"` // prospective or cumulative_catch_up
	Reason     string `json:"reason"`
}

// RecognizeInput asks for one billing entity's revenue recognition through a month.
type RecognizeInput struct {
	Entity string `json:"entity"`
	Month  string `json:"month"` // YYYY-MM
	// Amendments are the methods chosen for contract versions after the first; a contract whose
	// amendment has none is refused (never guessed).
	Amendments []AmendmentMethod `json:"amendments,omitempty"`
}

// Validate checks the input, reporting every bad field at once.
func (in RecognizeInput) Validate() error {
	var ps []string
	if in.Entity == "" {
		ps = append(ps, "entity: required")
	}
	if _, err := revrec.ParseMonth(in.Month); err != nil {
		ps = append(ps, fmt.Sprintf("month: %q is not YYYY-MM", in.Month))
	}
	seen := map[string]bool{}
	for i, a := range in.Amendments {
		f := fmt.Sprintf("amendments[%d]", i)
		if a.ContractID == "" {
			ps = append(ps, f+".contract_id: required")
		}
		if a.Version < 2 {
			ps = append(ps, fmt.Sprintf("%s.version: %d is not an amendment (versions after 1)", f, a.Version))
		}
		if !revrec.Method(a.Method).Valid() {
			ps = append(ps, fmt.Sprintf("%s.method: %q is not prospective or cumulative_catch_up", f, a.Method))
		}
		if strings.TrimSpace(a.Reason) == "" {
			ps = append(ps, f+".reason: required: why the method was chosen")
		}
		k := fmt.Sprintf("%s/%d", a.ContractID, a.Version)
		if seen[k] {
			ps = append(ps, fmt.Sprintf("%s: contract %s version %d is listed twice", f, a.ContractID, a.Version))
		}
		seen[k] = true
	}
	if len(ps) > 0 {
		return permanent(ErrInvalidInput, errors.New(strings.Join(ps, "; ")))
	}
	return nil
}

// CurrencyAmount is an amount in one currency.
type CurrencyAmount struct {
	Currency string          `json:"currency"`
	Amount   decimal.Decimal `json:"amount"`
}

// RecognizeOutput summarizes a recognition run.
type RecognizeOutput struct {
	Entity         string           `json:"entity"`
	Month          string           `json:"month"`
	Arrangements   int              `json:"arrangements"`    // contracts of the entity with a schedule
	SchedulesSaved int              `json:"schedules_saved"` // schedules whose input changed since the last run
	EntriesPosted  int              `json:"entries_posted"`  // ledger entries this run created (0 when already done)
	Recognized     []CurrencyAmount `json:"recognized"`      // the month's revenue including breakage, per currency
	Breakage       []CurrencyAmount `json:"breakage"`        // the month's breakage, per currency
}

// RecognizeMonth builds every contract of the entity into an arrangement (all versions, amendments by the
// chosen methods), takes billings and usage from its finalized invoices, computes and saves the schedule,
// and posts each month's recognition and breakage entries through Month to the ledger (keys
// revrec:{contract}:{YYYY-MM}:{recognition|breakage}; a month still open whose schedule changed gets an
// adjustment revrec:...:run-{n} for the difference). Billing entries are never posted here: invoice
// finalization posts invoice:{id}:finalized. A rerun posts nothing new. Contracts that cannot be recognized
// do not stop the others; they are all reported afterwards as one non-retryable InvalidContract error.
func (a *Revenue) RecognizeMonth(ctx context.Context, in RecognizeInput) (RecognizeOutput, error) {
	if err := in.Validate(); err != nil {
		return RecognizeOutput{}, err
	}
	month, _ := revrec.ParseMonth(in.Month)
	out := RecognizeOutput{Entity: in.Entity, Month: in.Month}
	closed, err := closedThrough(ctx, a.deps.Pool, in.Entity)
	if err != nil {
		return out, err
	}
	ids, err := entityContracts(ctx, a.deps.Pool, in.Entity)
	if err != nil {
		return out, err
	}
	choices := map[string]map[int]revrec.AmendmentChoice{}
	for _, m := range in.Amendments {
		if choices[m.ContractID] == nil {
			choices[m.ContractID] = map[int]revrec.AmendmentChoice{}
		}
		choices[m.ContractID][m.Version] = revrec.AmendmentChoice{Method: revrec.Method(m.Method), Reason: m.Reason}
	}
	recognized, breakage := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	var invalid, closedChanged []string
	for i, id := range ids {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, i) // a large entity takes a while; a lost worker is noticed early
		}
		res, err := a.recognizeContract(ctx, id, in.Entity, month, closed, choices[id])
		var ia *revrec.InvalidArrangement
		switch {
		case errors.As(err, &ia):
			invalid = append(invalid, err.Error())
			continue
		case errors.Is(err, revrec.ErrClosedMonthChanged):
			closedChanged = append(closedChanged, err.Error())
			continue
		case err != nil:
			return out, err
		case res.schedule == nil:
			continue
		}
		out.Arrangements++
		out.EntriesPosted += res.posted
		if res.saved {
			out.SchedulesSaved++
		}
		cur := string(res.schedule.Currency)
		for _, l := range res.schedule.Lines {
			if l.Month == month {
				recognized[cur] = recognized[cur].Add(l.Recognized())
				breakage[cur] = breakage[cur].Add(l.Breakage)
			}
		}
	}
	out.Recognized, out.Breakage = byCurrency(recognized), byCurrency(breakage)
	a.deps.Log.InfoContext(ctx, "revenue recognized", "entity", in.Entity, "month", in.Month, "arrangements", out.Arrangements,
		"schedules_saved", out.SchedulesSaved, "entries_posted", out.EntriesPosted, "refused", len(invalid)+len(closedChanged))
	switch {
	case len(invalid) > 0:
		return out, permanent(ErrInvalidContract, fmt.Errorf("revenue %s %s: %d contract(s) cannot be recognized: %s",
			in.Entity, in.Month, len(invalid)+len(closedChanged), strings.Join(append(invalid, closedChanged...), " | ")))
	case len(closedChanged) > 0:
		return out, permanent(ErrClosedPeriodChanged, fmt.Errorf("revenue %s %s: %s", in.Entity, in.Month, strings.Join(closedChanged, " | ")))
	}
	return out, nil
}

// contractResult is what one contract's run did.
type contractResult struct {
	schedule *revrec.Schedule // nil when the contract is not recognized (draft or cancelled)
	saved    bool
	posted   int
}

// recognizeContract computes, saves and posts one contract's schedule through month.
func (a *Revenue) recognizeContract(ctx context.Context, id, entity string, month, closed revrec.Month,
	choices map[int]revrec.AmendmentChoice) (contractResult, error) {
	c, err := contract.Get(ctx, a.deps.Pool, id)
	if err != nil {
		return contractResult{}, fmt.Errorf("revenue: %w", err)
	}
	c, ok := inForce(c)
	if !ok || c.Sorted()[0].BillingEntity != entity {
		return contractResult{}, nil
	}
	arr, err := revrec.FromContractVersions(c, a.ssp(), choices)
	if err != nil {
		// FromContractVersions is pure: an error now is an error on every retry.
		return contractResult{}, asInvalid("contract "+id, err)
	}
	invs, err := finalizedInvoices(ctx, a.deps.Pool, id)
	if err != nil {
		return contractResult{}, err
	}
	atBilling := map[string]map[string]bool{} // invoice id -> products its own entry credited to revenue
	for _, inv := range invs {
		if atBilling[inv.ID], err = a.recognizedAtBilling(ctx, inv.ID); err != nil {
			return contractResult{}, err
		}
	}
	skip := func(inv invoice.Invoice, l invoice.Line) bool { return atBilling[inv.ID][l.Product] }
	if err := revrec.FromInvoices(&arr, invs, skip); err != nil {
		return contractResult{}, asInvalid("contract "+id, err)
	}
	s, err := revrec.Compute(arr, a.ssp())
	if err != nil {
		return contractResult{}, asInvalid("contract "+id, err)
	}
	hash, err := revrec.InputHash(arr, a.ssp())
	if err != nil {
		return contractResult{}, err
	}
	run, saved, err := revrec.SaveSchedule(ctx, a.deps.Pool, s, hash, closed)
	if err != nil {
		return contractResult{}, err
	}
	entries, err := a.entries(s, month, closed)
	if err != nil {
		return contractResult{}, err
	}
	res := contractResult{schedule: s, saved: saved}
	for _, e := range entries {
		created, err := a.post(ctx, e, run.Seq)
		if err != nil {
			return res, err
		}
		if created {
			res.posted++
		}
	}
	return res, nil
}

// asInvalid keeps an *InvalidArrangement as it is and wraps any other error of pure code as one.
func asInvalid(subject string, err error) error {
	var ia *revrec.InvalidArrangement
	if errors.As(err, &ia) {
		return err
	}
	return &revrec.InvalidArrangement{Subject: subject, Problems: []revrec.Problem{{Field: "contract", Reason: err.Error()}}}
}

// ssp is the SSP table in use.
func (a *Revenue) ssp() *revrec.SSPTable {
	if a.deps.SSP != nil {
		return a.deps.SSP
	}
	return revrec.DefaultSSPTable()
}

// inForce drops draft versions; a contract whose latest version is cancelled was never performed.
func inForce(c contract.Contract) (contract.Contract, bool) {
	var vs []contract.Version
	for _, v := range c.Sorted() {
		if v.Status != contract.StatusDraft {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 || vs[len(vs)-1].Status == contract.StatusCancelled {
		return contract.Contract{}, false
	}
	return contract.Contract{ID: c.ID, Versions: vs}, true
}

// recognizedAtBilling returns the products whose revenue the invoice's finalization entry posted directly
// (right-to-invoice expedient). The entry must exist: recognizing before it would double-count the billing.
func (a *Revenue) recognizedAtBilling(ctx context.Context, invoiceID string) (map[string]bool, error) {
	key := "invoice:" + invoiceID + ":finalized"
	e, err := ledger.GetEntry(ctx, a.deps.Pool, key)
	if errors.Is(err, ledger.ErrNotFound) {
		// Retryable: billing posts this entry when it finalizes the invoice.
		return nil, fmt.Errorf("revenue: invoice %s is finalized but %s is not posted yet", invoiceID, key)
	}
	if err != nil {
		return nil, fmt.Errorf("revenue: %w", err)
	}
	out := map[string]bool{}
	for _, p := range e.Postings {
		if acct, ok := a.deps.Chart.Account(p.Account); ok && acct.Type == ledger.Revenue && p.Product != "" {
			out[p.Product] = true
		}
	}
	return out, nil
}

// entries turns the schedule's recognition and breakage suggestions through month into ledger entries on the
// chart: the deferred/unbilled side as revrec.Journal moves the contract's net position, revenue per product.
// Months after closed with nothing to post come as entries without postings (see post).
func (a *Revenue) entries(s *revrec.Schedule, through, closed revrec.Month) ([]ledger.Entry, error) {
	ch := a.deps.Chart
	acc := revrec.Accounts{
		Receivable: ch.RoleAccount(ledger.RoleReceivable), UnbilledReceivable: ch.RoleAccount(ledger.RoleUnbilled),
		DeferredRevenue: ch.RoleAccount(ledger.RoleDeferredRevenue), Breakage: ch.RoleAccount(ledger.RoleBreakage),
		Revenue: map[revrec.Kind]string{},
	}
	for _, k := range []revrec.Kind{revrec.KindPlatform, revrec.KindSeats, revrec.KindUsage, revrec.KindServices, revrec.KindSetup} {
		acc.Revenue[k] = "revenue:" + string(k) // placeholder: revenue credits are rebuilt per product below
	}
	suggested, err := revrec.Journal(s.Lines, acc)
	if err != nil {
		return nil, fmt.Errorf("revenue: contract %s: %w", s.ArrangementID, err)
	}
	type pk struct{ product, kind string }
	revenue := map[string]map[pk]decimal.Decimal{} // month -> product -> revenue
	for _, l := range s.Lines {
		if l.Revenue.IsZero() {
			continue
		}
		m := l.Month.String()
		if revenue[m] == nil {
			revenue[m] = map[pk]decimal.Decimal{}
		}
		k := pk{l.Product, string(l.Kind)}
		revenue[m][k] = revenue[m][k].Add(l.Revenue)
	}
	var out []ledger.Entry
	have := map[string]bool{}
	var months []revrec.Month
	for _, l := range s.Lines {
		if len(months) == 0 || months[len(months)-1].Before(l.Month) {
			months = append(months, l.Month)
		}
	}
	for _, j := range suggested {
		if j.Kind == revrec.EntryBilling || j.Month.After(through) {
			continue
		}
		e := ledger.Entry{Key: j.Key, Entity: j.EntityID, Date: j.Date, Memo: j.Memo}
		dims := ledger.Dimensions{Customer: s.CustomerID, Contract: s.ArrangementID}
		add := func(account string, side revrec.Side, amount decimal.Decimal, product string) {
			if amount.IsZero() {
				return
			}
			if amount.IsNegative() {
				amount = amount.Neg()
				side = map[revrec.Side]revrec.Side{revrec.Debit: revrec.Credit, revrec.Credit: revrec.Debit}[side]
			}
			d := dims
			d.Product = product
			e.Postings = append(e.Postings, ledger.Posting{Account: account, Side: ledger.Side(side), Amount: amount,
				Currency: j.Currency, Dimensions: d})
		}
		for _, l := range j.Lines {
			if l.Account == acc.DeferredRevenue || l.Account == acc.UnbilledReceivable || l.Account == acc.Breakage {
				add(l.Account, l.Side, l.Amount, "")
			}
		}
		if j.Kind == revrec.EntryRecognition {
			byProduct := revenue[j.Month.String()]
			keys := make([]pk, 0, len(byProduct))
			for k := range byProduct {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(x, y int) bool {
				if keys[x].product != keys[y].product {
					return keys[x].product < keys[y].product
				}
				return keys[x].kind < keys[y].kind
			})
			for _, k := range keys {
				add(revenueAccount(ch, k.product, k.kind), revrec.Credit, byProduct[k], k.product)
			}
		}
		out = append(out, e)
		have[j.Key] = true
	}
	// Open months with nothing to recognize any more: whatever an earlier run posted for them is undone.
	for _, m := range months {
		if m.After(through) || !m.After(closed) {
			continue
		}
		for _, kind := range []revrec.EntryKind{revrec.EntryRecognition, revrec.EntryBreakage} {
			key := fmt.Sprintf("revrec:%s:%s:%s", s.ArrangementID, m, kind)
			if !have[key] {
				out = append(out, ledger.Entry{Key: key, Entity: s.EntityID, Date: m.LastDay(),
					Memo: fmt.Sprintf("%s %s recognized in %s", s.ArrangementID, kind, m)})
			}
		}
	}
	return out, nil
}

// revenueAccount is the chart's revenue account of a product, else of its obligation kind, else the default.
func revenueAccount(ch *ledger.Chart, product, kind string) string {
	if code, ok := ch.RevenueByProduct[product]; ok {
		return code
	}
	if code, ok := ch.RevenueByProduct[kind]; ok {
		return code
	}
	return ch.RoleAccount(ledger.RoleRevenue)
}

// post posts a month's entry once. When the key already holds different content (the schedule of a month
// still open changed: a late invoice, an amendment), the difference to everything posted for it so far
// is posted as the adjustment {key}:run-{seq} of this schedule run; retrying the run repeats that key.
// Entries of a closed period are posted late, in the next open one (ledger.PostLate).
// An entry without postings is a month whose amount fell to zero: only what was posted for it is undone.
func (a *Revenue) post(ctx context.Context, e ledger.Entry, seq int) (bool, error) {
	if len(e.Postings) > 0 {
		res, err := ledger.PostLate(ctx, a.deps.Pool, a.deps.Chart, e)
		if err == nil {
			return res.Created, nil
		}
		if !errors.Is(err, ledger.ErrConflict) {
			return false, fmt.Errorf("revenue: post %s: %w", e.Key, err)
		}
	} else if _, err := ledger.GetEntry(ctx, a.deps.Pool, e.Key); errors.Is(err, ledger.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("revenue: %w", err)
	}
	posted := map[postingKey]decimal.Decimal{}
	keys := []string{e.Key}
	for n := 1; n < seq; n++ {
		keys = append(keys, fmt.Sprintf("%s:run-%d", e.Key, n))
	}
	for _, k := range keys {
		prev, err := ledger.GetEntry(ctx, a.deps.Pool, k)
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("revenue: %w", err)
		}
		addNet(posted, prev.Postings, decimal.NewFromInt(1))
	}
	diff := map[postingKey]decimal.Decimal{}
	addNet(diff, e.Postings, decimal.NewFromInt(1))
	for k, v := range posted {
		diff[k] = diff[k].Sub(v)
	}
	adj := ledger.Entry{Key: fmt.Sprintf("%s:run-%d", e.Key, seq), Entity: e.Entity, Date: e.Date,
		Memo: fmt.Sprintf("%s (adjusted by schedule run %d)", e.Memo, seq)}
	pks := make([]postingKey, 0, len(diff))
	for k, v := range diff {
		if !v.IsZero() {
			pks = append(pks, k)
		}
	}
	if len(pks) == 0 {
		return false, nil
	}
	sort.Slice(pks, func(i, j int) bool { // debits first, then by account and product
		if di, dj := diff[pks[i]].IsPositive(), diff[pks[j]].IsPositive(); di != dj {
			return di
		}
		if pks[i].account != pks[j].account {
			return pks[i].account < pks[j].account
		}
		return pks[i].product < pks[j].product
	})
	for _, k := range pks {
		p := ledger.Posting{Account: k.account, Side: ledger.Debit, Amount: diff[k], Currency: money.Currency(k.currency),
			Dimensions: ledger.Dimensions{Customer: k.customer, Product: k.product, Contract: k.contract}}
		if p.Amount.IsNegative() {
			p.Side, p.Amount = ledger.Credit, p.Amount.Neg()
		}
		adj.Postings = append(adj.Postings, p)
	}
	res, err := ledger.PostLate(ctx, a.deps.Pool, a.deps.Chart, adj)
	if err != nil {
		return false, fmt.Errorf("revenue: post %s: %w", adj.Key, err)
	}
	return res.Created, nil
}

// postingKey identifies what a posting moves, for netting entries against each other.
type postingKey struct{ account, currency, customer, product, contract string }

func addNet(net map[postingKey]decimal.Decimal, ps []ledger.Posting, sign decimal.Decimal) {
	for _, p := range ps {
		k := postingKey{p.Account, string(p.Currency), p.Customer, p.Product, p.Contract}
		net[k] = net[k].Add(p.Signed().Mul(sign))
	}
}

// byCurrency lists non-zero amounts ordered by currency.
func byCurrency(m map[string]decimal.Decimal) []CurrencyAmount {
	out := []CurrencyAmount{}
	for c, v := range m {
		out = append(out, CurrencyAmount{Currency: c, Amount: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}

// closedThrough is the entity's latest closed ledger period (zero when none is closed).
func closedThrough(ctx context.Context, q db.Querier, entity string) (revrec.Month, error) {
	ps, err := ledger.Periods(ctx, q, entity)
	if err != nil {
		return revrec.Month{}, fmt.Errorf("revenue: periods of %s: %w", entity, err)
	}
	var last revrec.Month
	for _, p := range ps {
		if p.Status != ledger.PeriodClosed {
			continue
		}
		m, err := revrec.ParseMonth(p.Period)
		if err != nil {
			return revrec.Month{}, fmt.Errorf("revenue: period %s of %s: %w", p.Period, entity, err)
		}
		if m.After(last) {
			last = m
		}
	}
	return last, nil
}

// entityContracts lists the ids of the contracts with a version billed from entity, ordered by id.
func entityContracts(ctx context.Context, q db.Querier, entity string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT contract_id FROM contract_versions WHERE billing_entity = $1 ORDER BY contract_id`, entity)
	if err != nil {
		return nil, fmt.Errorf("revenue: contracts of %s: %w", entity, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("revenue: contracts of %s: %w", entity, err)
	}
	return ids, nil
}

// finalizedInvoices loads, with their lines, the contract's invoices that were finalized and not voided.
func finalizedInvoices(ctx context.Context, q db.Querier, contractID string) ([]invoice.Invoice, error) {
	f := invoice.Filter{ContractID: contractID, Limit: 500, Statuses: []invoice.Status{
		invoice.StatusFinalized, invoice.StatusPartiallyPaid, invoice.StatusPaid, invoice.StatusUncollectible}}
	var out []invoice.Invoice
	for {
		page, next, err := invoice.List(ctx, q, f)
		if err != nil {
			return nil, fmt.Errorf("revenue: invoices of %s: %w", contractID, err)
		}
		for _, head := range page {
			inv, err := invoice.Get(ctx, q, head.ID)
			if err != nil {
				return nil, fmt.Errorf("revenue: invoices of %s: %w", contractID, err)
			}
			out = append(out, inv)
		}
		if next == "" {
			return out, nil
		}
		f.After = next
	}
}
