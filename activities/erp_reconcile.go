package activities

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/mappings"
)

// ERPReconcileStep is the default recon step of the ERP check when no close run is given.
const ERPReconcileStep = "erp_sync"

// maxReportedDifferences bounds the difference reasons returned to the workflow (all are stored).
const maxReportedDifferences = 20

// ReconcileInput asks to reconcile one entity's period between the ledger and NetSuite.
type ReconcileInput struct {
	Entity string `json:"entity"`
	Period string `json:"period"` // YYYY-MM
	// Run is the recon run the result belongs to; empty means ERPReconcileRun(entity, period).
	// The month-end close passes its own run (close/{entity}/{period}).
	Run  string `json:"run,omitempty"`
	Step string `json:"step,omitempty"` // the close step the check gates; empty means ERPReconcileStep
}

// ERPReconcileRun is the recon run of the ERP sync's own reconciliation of a period.
func ERPReconcileRun(entity, period string) string { return "erp-sync/" + entity + "/" + period }

// Validate checks the input.
func (in ReconcileInput) Validate() error {
	var probs []string
	if in.Entity == "" {
		probs = append(probs, "entity: required")
	}
	if _, err := ledger.ParsePeriod(in.Period); err != nil {
		probs = append(probs, fmt.Sprintf("period: %q is not a YYYY-MM period", in.Period))
	}
	return invalidAll(probs)
}

// ReconcileOutput is the stored result of the ledger_vs_erp check for the period.
type ReconcileOutput struct {
	Run         string       `json:"run"`
	Attempt     int          `json:"attempt"`
	ResultID    int64        `json:"result_id"`
	Status      recon.Status `json:"status"`      // green, within_tolerance or blocked
	Journals    int          `json:"journals"`    // journals the ledger posted for the period
	Unposted    int          `json:"unposted"`    // the period's entries not yet posted (not expected in NetSuite yet)
	Differences int          `json:"differences"` // every difference stored with the result
	Exceptions  []string     `json:"exceptions"`  // the first reasons, each naming the entry or account
}

// Reconcile compares, for one entity and period, NetSuite (via SuiteQL) with what the ledger
// posted: every journal is there exactly once with the same totals per account, and the totals per
// subsidiary, account and currency agree. The result is stored as the ledger_vs_erp check of the
// run with each difference (naming the ledger entry) as an exception; a blocked result also
// raises a notice for revenue ops. A retry finding the same differences stores nothing new.
func (a *ERP) Reconcile(ctx context.Context, in ReconcileInput) (ReconcileOutput, error) {
	if err := in.Validate(); err != nil {
		return ReconcileOutput{}, err
	}
	if err := a.configured(); err != nil {
		return ReconcileOutput{}, err
	}
	cfg := a.deps.NetSuiteMapping
	subsidiary, ok := cfg.Subsidiaries[in.Entity]
	if !ok {
		return ReconcileOutput{}, invalid("entity", "%q has no NetSuite subsidiary in the mapping", in.Entity)
	}
	run, step := in.Run, in.Step
	if run == "" {
		run = ERPReconcileRun(in.Entity, in.Period)
	}
	if step == "" {
		step = ERPReconcileStep
	}

	stop := a.heartbeat(ctx, func() any { return in.Period })
	defer stop()
	expected, unposted, err := a.expectedJournals(ctx, in.Entity, in.Period)
	if err != nil {
		return ReconcileOutput{}, err
	}
	periods, err := a.deps.NetSuite.AccountingPeriods(ctx)
	if err != nil {
		return ReconcileOutput{}, a.netsuiteError(ctx, "read accounting periods", err)
	}
	periodID := ""
	for _, p := range periods {
		if p.Month == in.Period {
			periodID = p.ID
		}
	}
	if periodID == "" {
		return ReconcileOutput{}, invalid("period", "NetSuite has no monthly accounting period for %s", in.Period)
	}
	perEntry, err := a.deps.NetSuite.EntryTotals(ctx, periodID)
	if err != nil {
		return ReconcileOutput{}, a.netsuiteError(ctx, "read entry totals of "+in.Period, err)
	}
	perPeriod, err := a.deps.NetSuite.PeriodTotals(ctx, periodID)
	if err != nil {
		return ReconcileOutput{}, a.netsuiteError(ctx, "read period totals of "+in.Period, err)
	}
	perEntry, perPeriod = ofSubsidiary(perEntry, subsidiary), ofSubsidiary(perPeriod, subsidiary)

	diffs := mappings.ReconcileNetSuite(expected, perEntry, perPeriod)
	check := erpCheck(cfg, run, step, in.Period, expected, perEntry, diffs)
	res, err := a.saveCheck(ctx, check)
	if err != nil {
		return ReconcileOutput{}, err
	}
	out := ReconcileOutput{Run: run, Attempt: res.Attempt, ResultID: res.ID, Status: res.Status, Journals: nonEmpty(expected),
		Unposted: unposted, Differences: len(check.Differences), Exceptions: differenceReasons(check.Differences, maxReportedDifferences, res.ID)}
	if res.Status.Blocks() {
		a.raise(ctx, recon.Subject(run, check.Name), "erp_reconciliation",
			fmt.Sprintf("NetSuite differs from the ledger for %s %s (attempt %d): %d difference(s), first: %s",
				in.Entity, in.Period, res.Attempt, len(check.Differences), check.Differences[0].Reason))
	}
	a.deps.Log.InfoContext(ctx, "erp reconciled", "entity", in.Entity, "period", in.Period, "status", res.Status,
		"differences", len(check.Differences), "attempt", res.Attempt)
	return out, nil
}

// expectedJournals maps the period's entries already recorded as posted, i.e. what NetSuite must hold.
func (a *ERP) expectedJournals(ctx context.Context, entity, period string) ([]mappings.NetSuiteJournal, int, error) {
	bq := ledger.BalanceQuery{Entity: entity, FromPeriod: period, ToPeriod: period}
	entries, err := ledger.Entries(ctx, a.deps.Pool, bq)
	if err != nil {
		return nil, 0, fmt.Errorf("erp reconcile %s %s: %w", entity, period, err)
	}
	postings, err := ledger.ERPPostings(ctx, a.deps.Pool, ERPSystem, bq)
	if err != nil {
		return nil, 0, fmt.Errorf("erp reconcile %s %s: %w", entity, period, err)
	}
	posted := make(map[string]bool, len(postings))
	for _, p := range postings {
		posted[p.EntryKey] = true
	}
	var done []ledger.Entry
	for _, e := range entries {
		if posted[e.Key] {
			done = append(done, e)
		}
	}
	journals, err := mappings.NetSuiteJournals(a.deps.NetSuiteMapping, done)
	if err != nil {
		if errors.Is(err, mappings.ErrUnmappableEntry) {
			return nil, 0, permanent(ErrUnmappableEntry, err)
		}
		return nil, 0, fmt.Errorf("erp reconcile %s %s: map: %w", entity, period, err)
	}
	return journals, len(entries) - len(done), nil
}

// saveCheck stores the check under the run: as the latest attempt again when nothing changed (a
// retry, or an unchanged re-run), otherwise as the next attempt.
func (a *ERP) saveCheck(ctx context.Context, c recon.Check) (recon.Result, error) {
	for range 5 {
		attempt := 1
		latest, err := recon.LatestCheck(ctx, a.deps.Pool, c.Run, c.Name)
		switch {
		case err == nil:
			attempt = latest.Attempt
		case !errors.Is(err, recon.ErrNotFound):
			return recon.Result{}, err
		}
		res, err := recon.SaveResult(ctx, a.deps.Pool, recon.NewResult(c, attempt, recon.Tolerance{}))
		if errors.Is(err, recon.ErrConflict) {
			res, err = recon.SaveResult(ctx, a.deps.Pool, recon.NewResult(c, attempt+1, recon.Tolerance{}))
			if errors.Is(err, recon.ErrConflict) {
				continue // another run saved that attempt meanwhile
			}
		}
		var inv *recon.InvalidError
		if errors.As(err, &inv) {
			return recon.Result{}, permanent(ErrInvalidInput, err)
		}
		return res, err
	}
	return recon.Result{}, fmt.Errorf("erp reconcile: saving %s/%s kept conflicting with concurrent runs", c.Run, c.Name)
}

// ofSubsidiary keeps the totals of one subsidiary (NetSuite holds every entity's journals).
func ofSubsidiary(ts []netsuite.LineTotal, subsidiary string) []netsuite.LineTotal {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Subsidiary == subsidiary {
			out = append(out, t)
		}
	}
	return out
}

func nonEmpty(js []mappings.NetSuiteJournal) int {
	n := 0
	for _, j := range js {
		if !j.Empty() {
			n++
		}
	}
	return n
}

// erpCheck turns NetSuite differences into the ledger_vs_erp recon check. Keys name the ledger
// entry (its key, or the summary key of a summarized journal), with "#account {id}" for an
// account's totals; period totals use "period:{YYYY-MM}:subsidiary:{id}:account:{id}". Amounts
// are debits for presence differences and net (debit - credit) for amount differences.
func erpCheck(cfg *mappings.NetSuiteConfig, run, step, period string, expected []mappings.NetSuiteJournal,
	perEntry []netsuite.LineTotal, diffs []mappings.NetSuiteDifference) recon.Check {
	cur := currencyOf(cfg)
	left := map[money.Currency]*recon.Total{}
	ledgerDebit := map[string]decimal.Decimal{}
	for _, j := range expected {
		if j.Empty() {
			continue
		}
		d, _ := j.Payload.Totals()
		ledgerDebit[j.ExternalID] = d
		addTotal(left, cur(refID(j.Payload.Currency)), d)
	}
	right := map[money.Currency]*recon.Total{}
	nsDebit := map[string]decimal.Decimal{}
	records := map[string]bool{}
	for _, t := range perEntry {
		nsDebit[t.ExternalID] = nsDebit[t.ExternalID].Add(t.Debit)
		c := cur(t.Currency)
		if right[c] == nil {
			right[c] = &recon.Total{Currency: c}
		}
		right[c].Amount = right[c].Amount.Add(t.Debit)
		if !records[t.InternalID] {
			records[t.InternalID] = true
			right[c].Count++
		}
	}
	check := recon.Check{Name: recon.CheckLedgerVsERP, Run: run, Step: step,
		Left:  recon.Side{Name: "ledger:netsuite_journals", Count: len(ledgerDebit), Totals: sortedTotals(left)},
		Right: recon.Side{Name: "netsuite:journal_entries", Count: len(records), Totals: sortedTotals(right)},
	}
	for _, d := range diffs {
		rd := recon.Difference{Key: entryKey(d.ExternalID), Reason: string(d.Kind) + ": " + d.Reason}
		switch d.Kind {
		case mappings.MissingInNetSuite:
			rd.Kind, rd.Left = recon.KindMissingRight, ledgerDebit[d.ExternalID]
			rd.Currency = cur(journalCurrency(expected, d.ExternalID))
		case mappings.UnexpectedInNetSuite:
			rd.Kind, rd.Right = recon.KindMissingLeft, nsDebit[d.ExternalID]
			rd.Currency = cur(entryCurrency(perEntry, d.ExternalID))
		case mappings.DuplicateInNetSuite:
			rd.Kind, rd.Left, rd.Right = recon.KindDuplicateKey, ledgerDebit[d.ExternalID], nsDebit[d.ExternalID]
			rd.Currency = cur(journalCurrency(expected, d.ExternalID))
		case mappings.NetSuiteEntryAmounts:
			rd.Key += "#account " + d.Account
			rd.Kind, rd.Currency = recon.KindAmountMismatch, cur(d.Currency)
			rd.Left, rd.Right = d.LedgerDebit.Sub(d.LedgerCredit), d.NetSuiteDebit.Sub(d.NetSuiteCredit)
		default: // period totals
			rd.Key = "period:" + period + ":subsidiary:" + d.Subsidiary + ":account:" + d.Account
			rd.Kind, rd.Currency = recon.KindAmountMismatch, cur(d.Currency)
			rd.Left, rd.Right = d.LedgerDebit.Sub(d.LedgerCredit), d.NetSuiteDebit.Sub(d.NetSuiteCredit)
		}
		rd.Delta = rd.Left.Sub(rd.Right)
		check.Differences = append(check.Differences, rd)
	}
	sort.SliceStable(check.Differences, func(i, j int) bool {
		a, b := check.Differences[i], check.Differences[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Currency < b.Currency
	})
	return check
}

// entryKey is the ledger key behind an external id (the id itself when it is a hashed one).
func entryKey(externalID string) string {
	if k, ok := netsuite.KeyFromExternalID(externalID); ok {
		return k
	}
	return externalID
}

// currencyOf maps NetSuite currency ids back to ISO codes; an id the mapping does not know is
// reported under the mapping's first currency (the difference's reason still names the entry).
func currencyOf(cfg *mappings.NetSuiteConfig) func(id string) money.Currency {
	byID := map[string]money.Currency{}
	var fallback money.Currency
	codes := make([]string, 0, len(cfg.Currencies))
	for code := range cfg.Currencies {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		if fallback == "" {
			fallback = money.Currency(code)
		}
		byID[cfg.Currencies[code]] = money.Currency(code)
	}
	return func(id string) money.Currency {
		if c, ok := byID[id]; ok {
			return c
		}
		return fallback
	}
}

func journalCurrency(js []mappings.NetSuiteJournal, externalID string) string {
	for _, j := range js {
		if j.ExternalID == externalID {
			return refID(j.Payload.Currency)
		}
	}
	return ""
}

func entryCurrency(ts []netsuite.LineTotal, externalID string) string {
	for _, t := range ts {
		if t.ExternalID == externalID {
			return t.Currency
		}
	}
	return ""
}

func refID(r *netsuite.Ref) string {
	if r == nil {
		return ""
	}
	return r.ID
}

func addTotal(m map[money.Currency]*recon.Total, c money.Currency, amount decimal.Decimal) {
	if m[c] == nil {
		m[c] = &recon.Total{Currency: c}
	}
	m[c].Amount = m[c].Amount.Add(amount)
	m[c].Count++
}

func sortedTotals(m map[money.Currency]*recon.Total) []recon.Total {
	out := make([]recon.Total, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}
