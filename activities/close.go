package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/rating"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/internal/usage"
)

// Close holds the month-end close activities: listing the billing cycles due, running and storing
// each step's reconciliation check, recording decisions with their audit trail, closing the ledger period.
type Close struct {
	deps *Deps
}

// MaxDueBatch is the most contracts one DueCycles page covers.
const MaxDueBatch = 500

// maxCloseExceptions bounds the difference reasons returned to the workflow (all are stored).
const maxCloseExceptions = 10

// CloseRun is the recon run of an entity's month-end close, also its workflow id: close/{entity}/{period}.
func CloseRun(entity, period string) string { return "close/" + entity + "/" + period }

// validateEntityPeriod names every bad field of an entity and YYYY-MM period at once.
func validateEntityPeriod(entity, period string) []string {
	var probs []string
	if entity == "" || strings.Contains(entity, "/") {
		probs = append(probs, fmt.Sprintf("entity: %q must be a non-empty billing entity without '/'", entity))
	}
	if _, err := ledger.ParsePeriod(period); err != nil {
		probs = append(probs, fmt.Sprintf("period: %q is not a YYYY-MM period", period))
	}
	return probs
}

// DueInput asks for one page of an entity's contracts whose billing period ends in the close period.
type DueInput struct {
	Entity string `json:"entity"`
	Period string `json:"period"`          // YYYY-MM
	After  string `json:"after,omitempty"` // the last contract id of the previous page
	Limit  int    `json:"limit,omitempty"` // contracts per page, 1-MaxDueBatch; 0 means 100
}

// Validate checks the input.
func (in DueInput) Validate() error {
	probs := validateEntityPeriod(in.Entity, in.Period)
	if in.Limit < 0 || in.Limit > MaxDueBatch {
		probs = append(probs, fmt.Sprintf("limit: %d must be between 0 and %d", in.Limit, MaxDueBatch))
	}
	return invalidAll(probs)
}

// DueCycle is one contract's billing period that ends within the close period.
type DueCycle struct {
	ContractID  string `json:"contract_id"`
	Customer    string `json:"customer"`     // the customer's external id
	Provider    string `json:"provider"`     // the payment provider of the contract version billed
	PeriodStart string `json:"period_start"` // YYYY-MM-DD, inclusive
	PeriodEnd   string `json:"period_end"`   // YYYY-MM-DD, exclusive
}

// DueOutput is one page of due cycles; Next is the cursor of the next page, "" on the last page.
type DueOutput struct {
	Cycles []DueCycle `json:"cycles"`
	Next   string     `json:"next,omitempty"`
}

// DueCycles lists, ordered by contract id and a page at a time, the billing periods of the entity's
// contracts that end in (period start, period end]: the cycles the close bills. Read-only.
func (a *Close) DueCycles(ctx context.Context, in DueInput) (DueOutput, error) {
	if err := in.Validate(); err != nil {
		return DueOutput{}, err
	}
	limit := in.Limit
	if limit == 0 {
		limit = 100
	}
	start, _ := ledger.ParsePeriod(in.Period)
	cs, err := contract.ListByEntity(ctx, a.deps.Pool, in.Entity)
	if err != nil {
		return DueOutput{}, fmt.Errorf("due cycles of %s %s: %w", in.Entity, in.Period, err)
	}
	var out DueOutput
	taken, last := 0, ""
	for _, c := range cs {
		if c.ID <= in.After {
			continue
		}
		if taken == limit {
			out.Next = last
			break
		}
		taken, last = taken+1, c.ID
		due, err := dueCycles(c, in.Entity, start)
		if err != nil {
			return DueOutput{}, permanent(ErrInvalidContract, err)
		}
		out.Cycles = append(out.Cycles, due...)
	}
	return out, nil
}

// dueCycles returns the contract's billing periods billed by entity that end in (monthStart, monthEnd].
func dueCycles(c contract.Contract, entity string, monthStart time.Time) ([]DueCycle, error) {
	vs := c.Sorted()
	if len(vs) == 0 {
		return nil, nil
	}
	from := contract.DateOf(monthStart)
	to := from.AddMonths(1)
	if anchor := vs[0].Start; from.Before(anchor) {
		from = anchor
	}
	if !from.Before(to) {
		return nil, nil
	}
	// A period ending in the month started at most a year before it (annual cadence).
	lookback := contract.MaxDate(vs[0].Start, contract.DateOf(monthStart).AddMonths(-12))
	if !lookback.Before(to) {
		return nil, nil
	}
	periods, err := rating.Periods(c, lookback, to)
	if err != nil {
		return nil, fmt.Errorf("contract %s: billing periods: %w", c.ID, err)
	}
	var out []DueCycle
	for _, p := range periods {
		if !p.End.After(contract.DateOf(monthStart)) || p.End.After(to) {
			continue
		}
		v, ok := c.VersionOn(p.End.AddDays(-1))
		if !ok || v.BillingEntity != entity {
			continue
		}
		out = append(out, DueCycle{ContractID: c.ID, Customer: v.Customer.ExternalID, Provider: string(v.PaymentProvider),
			PeriodStart: p.Start.String(), PeriodEnd: p.End.String()})
	}
	return out, nil
}

// Close check names run by RunCheck (the CRM and ERP checks are run by the intake and ERP activities).
var closeChecks = map[string]bool{
	recon.CheckInvoicesVsLedger:          true,
	recon.CheckUsageVsRated:              true,
	recon.CheckPaymentsVsProvider:        true,
	recon.CheckBillingsVsDeferredRevenue: true,
}

// CheckInput asks to run one reconciliation check of a close as the given attempt.
type CheckInput struct {
	Entity    string   `json:"entity"`
	Period    string   `json:"period"` // YYYY-MM
	Run       string   `json:"run"`    // close/{entity}/{period}
	Step      string   `json:"step"`   // the close step the check gates
	Check     string   `json:"check"`  // invoices_vs_ledger, usage_vs_rated, payments_vs_provider or billings_vs_deferred_revenue
	Attempt   int      `json:"attempt"`
	Providers []string `json:"providers,omitempty"` // payments_vs_provider: the providers to reconcile
	// SkipCustomers leaves these customers' items out of both sides (skipped by a recorded decision).
	SkipCustomers []string `json:"skip_customers,omitempty"`
}

// Validate checks the input, naming every bad field.
func (in CheckInput) Validate() error {
	probs := validateEntityPeriod(in.Entity, in.Period)
	if in.Run == "" {
		probs = append(probs, "run: required")
	}
	if in.Step == "" {
		probs = append(probs, "step: required")
	}
	if !closeChecks[in.Check] {
		probs = append(probs, fmt.Sprintf("check: %q is not a check the close runs itself", in.Check))
	}
	if in.Attempt < 1 {
		probs = append(probs, fmt.Sprintf("attempt: must be at least 1, got %d", in.Attempt))
	}
	for i, p := range in.Providers {
		switch provider.Name(p) {
		case provider.Stripe, provider.PayPal, provider.Bank:
		default:
			probs = append(probs, fmt.Sprintf("providers[%d]: %q is not stripe, paypal or bank", i, p))
		}
	}
	return invalidAll(probs)
}

// CheckOutput is the stored result of one check attempt, as the close shows it.
type CheckOutput struct {
	Run         string       `json:"run"`
	Check       string       `json:"check"`
	Attempt     int          `json:"attempt"`
	ResultID    int64        `json:"result_id"`
	Status      recon.Status `json:"status"` // green, within_tolerance, blocked, or approved (blocked, then approved)
	Left        recon.Side   `json:"left"`
	Right       recon.Side   `json:"right"`
	Differences int          `json:"differences"`
	Breaches    []string     `json:"breaches,omitempty"`
	Exceptions  []string     `json:"exceptions,omitempty"` // the first difference reasons, each naming its key
}

// RunCheck loads both sides of the check, matches them, evaluates the result against the
// configured tolerance and stores it under (run, check, attempt). A retry of the same attempt
// stores nothing new: when the data moved in between, the first stored result of that attempt is
// returned (a fresh look is the next attempt, the retry-step decision).
func (a *Close) RunCheck(ctx context.Context, in CheckInput) (CheckOutput, error) {
	if err := in.Validate(); err != nil {
		return CheckOutput{}, err
	}
	start, _ := ledger.ParsePeriod(in.Period)
	end := start.AddDate(0, 1, 0)
	skip := map[string]bool{}
	for _, c := range in.SkipCustomers {
		skip[c] = true
	}
	var left, right recon.Listing
	var err error
	switch in.Check {
	case recon.CheckInvoicesVsLedger:
		left, right, err = a.invoicesVsLedger(ctx, in.Entity, in.Period, start, end, skip)
	case recon.CheckUsageVsRated:
		left, right, err = a.usageVsRated(ctx, in.Entity, start, end, skip)
	case recon.CheckPaymentsVsProvider:
		left, right, err = a.paymentsVsProvider(ctx, in.Providers, start, end)
	case recon.CheckBillingsVsDeferredRevenue:
		left, right, err = a.billingsVsDeferred(ctx, in.Entity, in.Period, start, end, skip)
	}
	if err != nil {
		return CheckOutput{}, fmt.Errorf("check %s of %s: %w", in.Check, in.Run, err)
	}
	check, err := recon.Match(in.Check, in.Run, in.Step, left, right)
	if err != nil {
		return CheckOutput{}, permanent(ErrInvalidInput, err)
	}
	res, err := recon.SaveResult(ctx, a.deps.Pool, recon.NewResult(check, in.Attempt, a.deps.CloseTolerances.For(in.Check)))
	if errors.Is(err, recon.ErrConflict) {
		stored, lerr := recon.LatestCheck(ctx, a.deps.Pool, in.Run, in.Check)
		if lerr != nil {
			return CheckOutput{}, lerr
		}
		if stored.Attempt == in.Attempt {
			return checkOutput(stored), nil
		}
		return CheckOutput{}, permanent(ErrKeyConflict, err)
	}
	if err != nil {
		return CheckOutput{}, asPermanent(err, ErrInvalidInput, new(*recon.InvalidError))
	}
	if res.Status == recon.StatusBlocked {
		// A retried activity may find this attempt already approved.
		stored, err := recon.LatestCheck(ctx, a.deps.Pool, in.Run, in.Check)
		if err != nil {
			return CheckOutput{}, err
		}
		if stored.Attempt == res.Attempt {
			res.Decisions = stored.Decisions
		}
	}
	if res.Effective() == recon.StatusBlocked {
		a.deps.Log.WarnContext(ctx, "close check blocked", "run", in.Run, "check", in.Check, "attempt", in.Attempt,
			"differences", len(check.Differences))
	}
	return checkOutput(res), nil
}

func checkOutput(r recon.Result) CheckOutput {
	out := CheckOutput{Run: r.Check.Run, Check: r.Check.Name, Attempt: r.Attempt, ResultID: r.ID, Status: r.Effective(),
		Left: r.Check.Left, Right: r.Check.Right, Differences: len(r.Check.Differences), Breaches: r.Breaches,
		Exceptions: differenceReasons(r.Check.Differences, maxCloseExceptions, r.ID)}
	return out
}

// differenceReasons are the first limit differences as "key: reason", then a line saying how many
// more are stored with result resultID.
func differenceReasons(diffs []recon.Difference, limit int, resultID int64) []string {
	out := make([]string, 0, min(len(diffs), limit+1))
	for i, d := range diffs {
		if i == limit {
			return append(out, fmt.Sprintf("... and %d more (stored with result %d)", len(diffs)-i, resultID))
		}
		out = append(out, d.Key+": "+d.Reason)
	}
	return out
}

// closeInvoices lists the entity's numbered invoices that belong to the close of [start, end): the
// cycle invoices of billing periods ending in (start, end] (issued after the period, when the close
// bills them) and the one-off invoices issued in the period; customers in skip are left out.
func (a *Close) closeInvoices(ctx context.Context, entity string, start, end time.Time, skip map[string]bool) ([]invoice.Invoice, error) {
	return a.listInvoices(ctx, entity, skip, func(inv invoice.Invoice) bool {
		if inv.Kind == invoice.KindCycle {
			e := inv.PeriodEnd.Time()
			return e.After(start) && !e.After(end)
		}
		d := inv.IssueDate.Time()
		return !d.Before(start) && d.Before(end)
	})
}

// issuedInvoices lists the entity's numbered invoices issued in [start, end), as the ledger dates them.
func (a *Close) issuedInvoices(ctx context.Context, entity string, start, end time.Time, skip map[string]bool) ([]invoice.Invoice, error) {
	return a.listInvoices(ctx, entity, skip, func(inv invoice.Invoice) bool {
		d := inv.IssueDate.Time()
		return !d.Before(start) && d.Before(end)
	})
}

func (a *Close) listInvoices(ctx context.Context, entity string, skip map[string]bool, keep func(invoice.Invoice) bool) ([]invoice.Invoice, error) {
	var out []invoice.Invoice
	f := invoice.Filter{BillingEntity: entity, Limit: 500}
	for {
		page, next, err := invoice.List(ctx, a.deps.Pool, f)
		if err != nil {
			return nil, err
		}
		for _, inv := range page {
			if inv.Status.Numbered() && !skip[inv.CustomerID] && keep(inv) {
				out = append(out, inv)
			}
		}
		if next == "" {
			break
		}
		f.After = next
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// invoicesVsLedger compares each close invoice's total with the receivable debited by its
// invoice:{id}:finalized ledger entry (zero-total invoices post nothing and are left out); ledger
// entries dated in the period for invoices revhub does not know are listed on the ledger side too.
func (a *Close) invoicesVsLedger(ctx context.Context, entity, period string, start, end time.Time, skip map[string]bool) (recon.Listing, recon.Listing, error) {
	left := recon.Listing{Name: "invoices"}
	right := recon.Listing{Name: "ledger:" + string(ledger.RoleReceivable)}
	ar := a.deps.Chart.RoleAccount(ledger.RoleReceivable)
	addEntry := func(id string, e ledger.Entry) {
		for _, p := range e.Postings {
			if p.Account == ar && !skip[p.Customer] {
				right.Items = append(right.Items, recon.Item{Key: id, Amount: p.Signed(), Currency: p.Currency})
			}
		}
	}
	invs, err := a.closeInvoices(ctx, entity, start, end, skip)
	if err != nil {
		return left, right, err
	}
	listed := make(map[string]bool, len(invs))
	for _, inv := range invs {
		listed[inv.ID] = true
		if inv.Total.IsZero() {
			continue
		}
		left.Items = append(left.Items, recon.Item{Key: inv.ID, Amount: inv.Total, Currency: inv.Currency})
		e, err := ledger.GetEntry(ctx, a.deps.Pool, invoice.EventKey(inv.ID, "finalized"))
		if errors.Is(err, ledger.ErrNotFound) {
			continue
		}
		if err != nil {
			return left, right, err
		}
		addEntry(inv.ID, e)
	}
	entries, err := ledger.Entries(ctx, a.deps.Pool, ledger.BalanceQuery{Entity: entity, FromPeriod: period, ToPeriod: period})
	if err != nil {
		return left, right, err
	}
	for _, e := range entries {
		id, ok := finalizedInvoiceID(e.Key)
		if !ok || listed[id] {
			continue // not an invoice's entry, or one of the invoices compared above
		}
		if _, err := invoice.Get(ctx, a.deps.Pool, id); errors.Is(err, invoice.ErrNotFound) {
			addEntry(id, e)
		} else if err != nil {
			return left, right, err
		}
	}
	return left, right, nil
}

// finalizedInvoiceID returns the invoice id of an invoice:{id}:finalized entry key.
func finalizedInvoiceID(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "invoice:")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, ":finalized")
}

// usageVsRated compares, per cycle invoice of the close and usage component, the raw usage in the
// hourly rollups over the invoice's period with the quantity its usage lines rated (before free
// units), keyed customer:meter[:group]:period start. Quantities carry the invoice's currency as
// their label (a check's items are per currency); late usage billed as next period's adjustment
// shows here as raw usage not yet rated.
func (a *Close) usageVsRated(ctx context.Context, entity string, start, end time.Time, skip map[string]bool) (recon.Listing, recon.Listing, error) {
	left := recon.Listing{Name: "usage_rollups"}
	right := recon.Listing{Name: "rated_quantities"}
	invs, err := a.closeInvoices(ctx, entity, start, end, skip)
	if err != nil {
		return left, right, err
	}
	var meters *usage.MeterSet
	for _, head := range invs {
		if head.Kind != invoice.KindCycle || head.ContractID == "" {
			continue
		}
		inv, err := invoice.Get(ctx, a.deps.Pool, head.ID)
		if err != nil {
			return left, right, err
		}
		c, err := contract.Get(ctx, a.deps.Pool, inv.ContractID)
		if err != nil {
			return left, right, err
		}
		v, ok := c.VersionOn(contract.DateOf(inv.PeriodEnd.Time()).AddDays(-1))
		if !ok {
			continue
		}
		key := func(meter, group string) string {
			k := inv.CustomerID + ":" + meter
			if group != "" {
				k += ":" + group
			}
			return k + ":" + inv.PeriodStart.String()
		}
		for _, l := range inv.Lines {
			if l.Kind != string(rating.KindUsage) {
				continue
			}
			ex, q, err := usageLine(l)
			if err != nil || ex.Meter == "" {
				return left, right, permanent(ErrInvalidInput, fmt.Errorf("invoice %s line %d: usage line without its meter in the explanation", inv.ID, l.No))
			}
			if q.IsZero() {
				continue
			}
			right.Items = append(right.Items, recon.Item{Key: key(ex.Meter, ex.Group), Amount: q, Currency: inv.Currency})
		}
		seen := map[string]bool{}
		for _, comp := range v.Components {
			if !comp.Model.Usage() || comp.Meter == "" || seen[key(comp.Meter, comp.Group)] {
				continue
			}
			seen[key(comp.Meter, comp.Group)] = true
			if meters == nil {
				all, err := usage.ListMeters(ctx, a.deps.Pool)
				if err != nil {
					return left, right, err
				}
				meters = usage.NewMeterSet(all)
			}
			m, _ := v.MeterByID(comp.Meter)
			p := usage.QueryParams{Meter: comp.Meter, Subject: inv.CustomerID, From: inv.PeriodStart.Time(), To: inv.PeriodEnd.Time()}
			if comp.Group != "" && m.GroupBy != "" {
				p.GroupBy = []string{m.GroupBy}
			}
			rows, err := usage.Query(ctx, a.deps.Pool, meters, p)
			if err != nil {
				return left, right, fmt.Errorf("usage of %s on meter %s: %w", inv.CustomerID, comp.Meter, err)
			}
			total := decimal.Zero
			for _, r := range rows {
				if comp.Group == "" || r.Groups[m.GroupBy] == comp.Group {
					total = total.Add(r.Value)
				}
			}
			if !total.IsZero() { // a component without usage may have no line
				left.Items = append(left.Items, recon.Item{Key: key(comp.Meter, comp.Group), Amount: total, Currency: inv.Currency})
			}
		}
	}
	return left, right, nil
}

// paymentsVsProvider reconciles each provider for the period (payment.Service.Reconcile, which
// also records its exceptions) and lists both sides by provider:provider id.
func (a *Close) paymentsVsProvider(ctx context.Context, providers []string, start, end time.Time) (recon.Listing, recon.Listing, error) {
	left := recon.Listing{Name: "payments"}
	right := recon.Listing{Name: "providers"}
	if len(providers) == 0 {
		return left, right, nil
	}
	if a.deps.Payments == nil {
		return left, right, errors.New("payments are not configured on this worker")
	}
	for _, name := range providers {
		r, err := a.deps.Payments.Reconcile(ctx, provider.Name(name), start, end)
		if err != nil {
			return left, right, err
		}
		ours, theirs := reconciliationSides(r)
		left.Items = append(left.Items, ours...)
		right.Items = append(right.Items, theirs...)
	}
	return left, right, nil
}

// reconciliationSides rebuilds both sides of a provider reconciliation, keyed provider:provider id
// (a payment missing at the provider is keyed by its idempotency key, as the provider never saw an id).
func reconciliationSides(r payment.Reconciliation) (ours, theirs []recon.Item) {
	key := func(id string) string { return string(r.Provider) + ":" + id }
	for _, p := range r.Matched {
		ours = append(ours, recon.Item{Key: key(p.Payment.ProviderID), Amount: p.Payment.Amount, Currency: p.Payment.Currency})
		theirs = append(theirs, recon.Item{Key: key(p.Captured.ProviderID), Amount: p.Captured.Amount, Currency: p.Captured.Currency})
	}
	for _, e := range r.Exceptions {
		switch e.Kind {
		case payment.ExceptionMissingAtProvider:
			ours = append(ours, recon.Item{Key: key(e.Source), Amount: e.Amount, Currency: e.Currency})
		case payment.ExceptionMissingInRevhub:
			theirs = append(theirs, recon.Item{Key: key(e.Source), Amount: e.Amount, Currency: e.Currency})
		case payment.ExceptionAmountMismatch:
			// Amount is the provider's minus revhub's; the comparison only needs the delta to show.
			ours = append(ours, recon.Item{Key: key(e.Source), Amount: decimal.Zero, Currency: e.Currency})
			theirs = append(theirs, recon.Item{Key: key(e.Source), Amount: e.Amount, Currency: e.Currency})
		}
	}
	return ours, theirs
}

// billingsVsDeferred compares, per currency, what the period's invoices billed in advance (from the
// invoices and their contracts) with the deferred revenue roll-forward in the ledger: closing minus
// opening balance (credit positive) plus what recognition released (revrec:* debits).
func (a *Close) billingsVsDeferred(ctx context.Context, entity, period string, start, end time.Time, skip map[string]bool) (recon.Listing, recon.Listing, error) {
	left := recon.Listing{Name: "billings_in_advance"}
	right := recon.Listing{Name: "ledger:deferred_revenue_roll_forward"}
	invs, err := a.issuedInvoices(ctx, entity, start, end, skip)
	if err != nil {
		return left, right, err
	}
	billed := map[money.Currency]decimal.Decimal{}
	for _, head := range invs {
		inv, err := invoice.Get(ctx, a.deps.Pool, head.ID)
		if err != nil {
			return left, right, err
		}
		if inv.ContractID == "" {
			continue
		}
		c, err := contract.Get(ctx, a.deps.Pool, inv.ContractID)
		if err != nil {
			return left, right, err
		}
		for _, l := range ledgerInvoice(inv, c).Lines {
			if l.Treatment == ledger.BilledInAdvance {
				billed[inv.Currency] = billed[inv.Currency].Add(l.Amount)
			}
		}
	}
	deferred := a.deps.Chart.RoleAccount(ledger.RoleDeferredRevenue)
	entries, err := ledger.Entries(ctx, a.deps.Pool, ledger.BalanceQuery{Entity: entity, FromPeriod: period, ToPeriod: period, Account: deferred})
	if err != nil {
		return left, right, err
	}
	roll := map[money.Currency]decimal.Decimal{}
	for _, e := range entries {
		released := strings.HasPrefix(e.Key, "revrec:")
		for _, p := range e.Postings {
			if p.Account != deferred || skip[p.Customer] {
				continue
			}
			// Change in the credit balance, with recognition's releases added back: what was billed into it.
			change := p.Signed().Neg()
			if released {
				change = decimal.Zero
			}
			roll[p.Currency] = roll[p.Currency].Add(change)
		}
	}
	key := func(c money.Currency) string { return deferred + ":" + string(c) }
	for c, amt := range billed {
		left.Items = append(left.Items, recon.Item{Key: key(c), Amount: amt, Currency: c})
	}
	for c, amt := range roll {
		if amt.IsZero() {
			continue
		}
		right.Items = append(right.Items, recon.Item{Key: key(c), Amount: amt, Currency: c})
	}
	return left, right, nil
}

// RunRef names a recon run, e.g. close/acme-us/2026-10.
type RunRef struct {
	Run string `json:"run"`
}

// LatestAttempts returns, per check, the latest attempt stored in the run (empty for a new run):
// a close started again continues each check from the next attempt instead of reusing old results.
func (a *Close) LatestAttempts(ctx context.Context, in RunRef) (map[string]int, error) {
	if in.Run == "" {
		return nil, invalid("run", "required")
	}
	rs, err := recon.Latest(ctx, a.deps.Pool, in.Run)
	if err != nil {
		return nil, fmt.Errorf("latest attempts of %s: %w", in.Run, err)
	}
	out := make(map[string]int, len(rs))
	for _, r := range rs {
		out[r.Check.Name] = r.Attempt
	}
	return out, nil
}

// PriorDecisions returns the highest decision number recorded for the run (0 for a new run): a
// close started again after a finished one numbers its decisions after it, so no decision key
// ({run}:decision:{n}) repeats and a new decision is never mistaken for a retry of an old one.
func (a *Close) PriorDecisions(ctx context.Context, in RunRef) (int, error) {
	if in.Run == "" {
		return 0, invalid("run", "required")
	}
	prefix := in.Run + decisionKeyInfix
	var n int
	err := a.deps.Pool.QueryRow(ctx, `SELECT coalesce(max(seq::int), 0) FROM (
		SELECT substring(key FROM length($2) + 1) AS seq FROM close_decisions WHERE run = $1 AND starts_with(key, $2)) d
		WHERE seq ~ '^[0-9]{1,9}$'`, in.Run, prefix).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("prior decisions of %s: %w", in.Run, err)
	}
	return n, nil
}

// ApproveInput approves a blocked check of a run, or one of its difference keys.
type ApproveInput struct {
	Run           string `json:"run"`
	Check         string `json:"check"`
	DifferenceKey string `json:"difference_key,omitempty"`
	Actor         string `json:"actor"`
	Reason        string `json:"reason"`
}

// ApproveOutput is the recorded decision and the check's status after it.
type ApproveOutput struct {
	DecisionID int64        `json:"decision_id"`
	Attempt    int          `json:"attempt"`
	Status     recon.Status `json:"status"` // approved, or still blocked when other differences remain beyond tolerance
}

// Approve records the approval (recon.Approve, with its audit log entry in the same transaction);
// repeating it with the same actor and reason is a no-op that returns the recorded decision.
// Approving what does not block, or what someone else already decided, is a permanent InvalidInput.
func (a *Close) Approve(ctx context.Context, in ApproveInput) (ApproveOutput, error) {
	dec, err := recon.Approve(ctx, a.deps.Pool, recon.Approval{Run: in.Run, Check: in.Check, DifferenceKey: in.DifferenceKey, Actor: in.Actor, Reason: in.Reason})
	switch {
	case errors.Is(err, recon.ErrNotBlocked), errors.Is(err, recon.ErrAlreadyDecided), errors.Is(err, recon.ErrNotFound):
		return ApproveOutput{}, permanent(ErrInvalidInput, err)
	case err != nil:
		return ApproveOutput{}, asPermanent(err, ErrInvalidInput, new(*recon.InvalidError))
	}
	after, err := recon.LatestCheck(ctx, a.deps.Pool, in.Run, in.Check)
	if err != nil {
		return ApproveOutput{}, err
	}
	return ApproveOutput{DecisionID: dec.ID, Attempt: dec.Attempt, Status: after.Effective()}, nil
}

// Close decision actions, as written to the audit log.
const (
	ActionCloseSkipCustomer  = "close.skip_customer"
	ActionCloseRetryStep     = "close.retry_step"
	ActionCloseRerunCustomer = "close.rerun_customer"
	ActionCloseStart         = "close.start"
)

// decisionKeyInfix separates the run from the decision number in a decision key.
const decisionKeyInfix = ":decision:"

// DecisionKey is the idempotency key of a close's seq-th decision, e.g. close/acme/2026-10:decision:3.
func DecisionKey(run string, seq int) string {
	return run + decisionKeyInfix + strconv.Itoa(seq)
}

// DecisionInput is one decision taken on a close, keyed by the run and the workflow's decision sequence.
type DecisionInput struct {
	Key     string            `json:"key"` // e.g. close/acme/2026-10:decision:3
	Run     string            `json:"run"`
	Action  string            `json:"action"`
	Actor   string            `json:"actor"`
	Reason  string            `json:"reason"`
	Details map[string]string `json:"details,omitempty"` // e.g. customer, step
}

// Validate names every missing field at once.
func (in DecisionInput) Validate() error {
	var probs []string
	for _, f := range []struct{ name, v string }{{"key", in.Key}, {"run", in.Run}, {"action", in.Action}, {"actor", in.Actor}, {"reason", in.Reason}} {
		if f.v == "" {
			probs = append(probs, f.name+": required")
		}
	}
	return invalidAll(probs)
}

// DecisionOutput is the audit log entry of a decision.
type DecisionOutput struct {
	AuditID         int64 `json:"audit_id"`
	AlreadyRecorded bool  `json:"already_recorded"`
}

// RecordDecision writes a close decision and its audit log entry in one transaction, once per key:
// a retry returns the first record; the same key with other content is an IdempotencyConflict.
func (a *Close) RecordDecision(ctx context.Context, in DecisionInput) (DecisionOutput, error) {
	if err := in.Validate(); err != nil {
		return DecisionOutput{}, err
	}
	details := maps.Clone(in.Details)
	if details == nil {
		details = map[string]string{}
	}
	details["key"] = in.Key
	raw, err := json.Marshal(details)
	if err != nil {
		return DecisionOutput{}, fmt.Errorf("decision %s: %w", in.Key, err)
	}
	var out DecisionOutput
	err = db.InTx(ctx, a.deps.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 81))`, in.Key); err != nil {
			return fmt.Errorf("lock decision %s: %w", in.Key, err)
		}
		var run, action, actor, reason string
		var stored []byte
		err := tx.QueryRow(ctx, `SELECT run, action, actor, reason, details, audit_id FROM close_decisions WHERE key = $1`, in.Key).
			Scan(&run, &action, &actor, &reason, &stored, &out.AuditID)
		if err == nil {
			var had map[string]string
			_ = json.Unmarshal(stored, &had)
			if run != in.Run || action != in.Action || actor != in.Actor || reason != in.Reason || !maps.Equal(had, details) {
				return permanent(ErrKeyConflict, fmt.Errorf("decision %s was already recorded with other content", in.Key))
			}
			out.AlreadyRecorded = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read decision %s: %w", in.Key, err)
		}
		id, err := audit.Record(ctx, tx, in.Actor, in.Action, in.Run, in.Reason, details)
		if err != nil {
			return err
		}
		out.AuditID = id
		if _, err := tx.Exec(ctx, `INSERT INTO close_decisions (key, run, action, actor, reason, details, audit_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			in.Key, in.Run, in.Action, in.Actor, in.Reason, raw, id); err != nil {
			return fmt.Errorf("record decision %s: %w", in.Key, err)
		}
		return nil
	})
	if err != nil {
		return DecisionOutput{}, err
	}
	return out, nil
}

// ClosePeriodInput closes an entity's ledger period.
type ClosePeriodInput struct {
	Entity string `json:"entity"`
	Period string `json:"period"` // YYYY-MM
	By     string `json:"by"`     // who closes it, e.g. the close run
}

// Validate checks the input.
func (in ClosePeriodInput) Validate() error {
	probs := validateEntityPeriod(in.Entity, in.Period)
	if in.By == "" {
		probs = append(probs, "by: required")
	}
	return invalidAll(probs)
}

// CloseLedgerPeriod closes the period in the ledger so PostgreSQL refuses entries dated in it;
// closing a closed period again is a no-op.
func (a *Close) CloseLedgerPeriod(ctx context.Context, in ClosePeriodInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if err := ledger.ClosePeriod(ctx, a.deps.Pool, in.Entity, in.Period, in.By); err != nil {
		return fmt.Errorf("close ledger period: %w", err)
	}
	return nil
}
