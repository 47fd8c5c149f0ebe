package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
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
	// Amendments are the methods chosen for contract versions after the first. A method once used is
	// recorded with the schedule run and reused by later runs; a contract whose amendment has never had
	// one is refused (never guessed).
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
	return invalidAll(ps)
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
// and posts each month's recognition, breakage and month-end reclass entries through Month to the ledger (keys
// revrec:{contract}:{YYYY-MM}:{recognition|breakage|reclass}; a month still open whose schedule changed gets
// an adjustment revrec:...:run-{n} for the difference). Billing entries are never posted here: invoice
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
	contracts, err := contract.ListByEntity(ctx, a.deps.Pool, in.Entity)
	if err != nil {
		return out, fmt.Errorf("revenue: %w", err)
	}
	choices := map[string]map[int]revrec.AmendmentChoice{}
	for _, m := range in.Amendments {
		if choices[m.ContractID] == nil {
			choices[m.ContractID] = map[int]revrec.AmendmentChoice{}
		}
		choices[m.ContractID][m.Version] = revrec.AmendmentChoice{Method: revrec.Method(m.Method), Reason: m.Reason}
	}
	ssp := a.ssp()
	recognized, breakage := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	var invalid, closedChanged []string
	for i, c := range contracts {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, i) // a large entity takes a while; a lost worker is noticed early
		}
		res, err := a.recognizeContract(ctx, c, ssp, in.Entity, month, closed, choices[c.ID])
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
func (a *Revenue) recognizeContract(ctx context.Context, c contract.Contract, ssp *revrec.SSPTable, entity string,
	month, closed revrec.Month, choices map[int]revrec.AmendmentChoice) (contractResult, error) {
	id := c.ID
	c, ok := inForce(c)
	if !ok || c.Sorted()[0].BillingEntity != entity {
		return contractResult{}, nil
	}
	if len(c.Versions) > 1 {
		var err error
		if choices, err = a.withRecordedMethods(ctx, id, choices); err != nil {
			return contractResult{}, err
		}
	}
	arr, err := revrec.FromContractVersions(c, ssp, choices)
	if err != nil {
		// FromContractVersions is pure: an error now is an error on every retry.
		return contractResult{}, asInvalid("contract "+id, err)
	}
	invs, err := finalizedInvoices(ctx, a.deps.Pool, id)
	if err != nil {
		return contractResult{}, err
	}
	atBilling := map[string]map[string]bool{} // invoice id -> products its own entry credited to revenue
	var billed []ledger.Entry                 // the invoices' finalization entries
	for _, inv := range invs {
		e, err := a.billingEntry(ctx, inv.ID)
		if err != nil {
			return contractResult{}, err
		}
		billed = append(billed, e)
		atBilling[inv.ID] = a.revenueProducts(e)
	}
	skip := func(inv invoice.Invoice, l invoice.Line) bool { return atBilling[inv.ID][l.Product] }
	if err := revrec.FromInvoices(&arr, invs, skip); err != nil {
		return contractResult{}, asInvalid("contract "+id, err)
	}
	s, err := revrec.Compute(arr, ssp)
	if err != nil {
		return contractResult{}, asInvalid("contract "+id, err)
	}
	hash, err := revrec.InputHash(arr, ssp)
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
	entries = append(entries, a.reclasses(ctx, s, billed, entries, month, closed)...)
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

// withRecordedMethods adds to choices the amendment methods the contract's latest schedule run recorded, so
// that revenue ops choose a method once; a method given in the input takes precedence (a new run records it).
func (a *Revenue) withRecordedMethods(ctx context.Context, contractID string,
	choices map[int]revrec.AmendmentChoice) (map[int]revrec.AmendmentChoice, error) {
	run, found, err := revrec.LatestRun(ctx, a.deps.Pool, contractID)
	if err != nil || !found {
		return choices, err
	}
	out := map[int]revrec.AmendmentChoice{}
	for _, v := range run.Versions {
		n, err := strconv.Atoi(strings.TrimPrefix(v.AmendmentID, contractID+":v"))
		if err != nil || v.AmendmentID == "" || !v.Method.Valid() {
			continue // the original version, or an id not made by FromContractVersions
		}
		out[n] = revrec.AmendmentChoice{Method: v.Method, Reason: v.Reason}
	}
	for n, ch := range choices {
		out[n] = ch
	}
	return out, nil
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

// revenueProducts returns the products whose revenue an invoice's finalization entry posted directly
// (right-to-invoice expedient).
func (a *Revenue) revenueProducts(e ledger.Entry) map[string]bool {
	out := map[string]bool{}
	for _, p := range e.Postings {
		if acct, ok := a.deps.Chart.Account(p.Account); ok && acct.Type == ledger.Revenue && p.Product != "" {
			out[p.Product] = true
		}
	}
	return out
}

// billingEntry loads an invoice's finalization entry. It must exist: recognizing before it would count a
// billing the ledger does not have (retryable: billing posts it when it finalizes the invoice).
func (a *Revenue) billingEntry(ctx context.Context, invoiceID string) (ledger.Entry, error) {
	key := invoice.EventKey(invoiceID, "finalized")
	e, err := ledger.GetEntry(ctx, a.deps.Pool, key)
	if errors.Is(err, ledger.ErrNotFound) {
		return ledger.Entry{}, fmt.Errorf("revenue: invoice %s is finalized but %s is not posted yet", invoiceID, key)
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("revenue: %w", err)
	}
	return e, nil
}

// byCurrency lists the amounts ordered by currency.
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
