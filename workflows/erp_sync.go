package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/internal/recon"
)

// ERPSyncID is the workflow id of an entity's ERP sync started by hand or by the API (the
// schedule's runs get this id plus the scheduled time).
func ERPSyncID(entity string) string { return "erp-sync/" + entity }

// ERPCloseSyncID is the workflow id of the ERP sync the month-end close starts as a child.
func ERPCloseSyncID(entity, period string) string { return "erp-sync/" + entity + "/close/" + period }

// ERPScheduleID is the id of the Temporal Schedule that starts an entity's hourly ERP sync.
func ERPScheduleID(entity string) string { return "erp-sync/" + entity }

// ERP sync limits.
const (
	// ERPBatchSize is the default number of ledger entries one PostBatch activity takes.
	ERPBatchSize = 200
	// erpBatchesPerRun bounds the batches of one run before it continues as new (about 6 history
	// events each, far below the 51,200-event limit).
	erpBatchesPerRun = 250
	// erpHeartbeat is how long a PostBatch may go without a heartbeat before Temporal retries it
	// elsewhere (a killed worker); the activity heartbeats every 2 seconds.
	erpHeartbeat = 20 * time.Second
	// erpPostTimeout bounds one PostBatch attempt, long enough to wait out NetSuite's rate limits.
	erpPostTimeout = 15 * time.Minute
)

// ERPSync step names, also the RevhubStep search attribute.
const (
	ERPStepPosting     = "erp_posting"
	ERPStepReconciling = "erp_reconciling"
	ERPStepDone        = "erp_done"
)

// ERPSyncInput starts a sync of one entity's ledger to NetSuite.
type ERPSyncInput struct {
	Entity     string `json:"entity"`
	FromPeriod string `json:"from_period,omitempty"` // inclusive YYYY-MM; empty means every unposted entry
	ToPeriod   string `json:"to_period,omitempty"`   // inclusive YYYY-MM
	BatchSize  int    `json:"batch_size,omitempty"`  // entries per PostBatch; 0 means ERPBatchSize
	// Reconcile lists periods reconciled even when this run posts nothing in them; the close
	// passes its period.
	Reconcile []string `json:"reconcile,omitempty"`
	// ReconcileRecent also reconciles the current and the previous month (by the workflow clock,
	// UTC), so an edit made in NetSuite shows within one interval even when nothing new is posted;
	// the schedule sets it.
	ReconcileRecent bool `json:"reconcile_recent,omitempty"`
	// ReconRun and ReconStep file the reconciliation of the periods in Reconcile under a close run
	// (close/{entity}/{period}); other periods, and empty values, use the sync's own run per
	// period (activities.ERPReconcileRun), so one run's check never mixes two periods.
	ReconRun  string `json:"recon_run,omitempty"`
	ReconStep string `json:"recon_step,omitempty"`
	// Progress is carried over continue-as-new; callers leave it empty.
	Progress *ERPSyncState `json:"progress,omitempty"`
}

// ERPCloseInput is the input of the ERPSync child the month-end close starts (with workflow id
// ERPCloseSyncID): post everything unposted through the period, then reconcile the period under
// the close's recon run and step, even if nothing was left to post.
func ERPCloseInput(entity, period, run, step string) ERPSyncInput {
	return ERPSyncInput{Entity: entity, ToPeriod: period, Reconcile: []string{period}, ReconRun: run, ReconStep: step}
}

// ERPPeriodResult is the reconciliation of one period.
type ERPPeriodResult struct {
	Period      string       `json:"period"`
	Run         string       `json:"run"`
	Attempt     int          `json:"attempt"`
	Status      recon.Status `json:"status"`
	Differences int          `json:"differences"`
	Exceptions  []string     `json:"exceptions,omitempty"`
}

// ERPSyncState is the sync's progress (the status query) and its result.
type ERPSyncState struct {
	Step       string            `json:"step"`
	Batches    int               `json:"batches"`
	Posted     int               `json:"posted"`   // ledger entries recorded as posted
	Journals   int               `json:"journals"` // journal upserts sent to NetSuite
	Periods    []string          `json:"periods"`  // periods reconciled (touched or asked for), sorted
	Reconciled []ERPPeriodResult `json:"reconciled"`
	Runs       int               `json:"runs"` // continue-as-new generations before this one
}

// Blocked reports whether any reconciled period blocks the close.
func (s ERPSyncState) Blocked() bool {
	for _, r := range s.Reconciled {
		if r.Status.Blocks() {
			return true
		}
	}
	return false
}

// validate checks the input deterministically, naming every bad field.
func (in ERPSyncInput) validate() error {
	var probs []string
	if in.Entity == "" {
		probs = append(probs, "entity: required")
	}
	for _, p := range []struct{ name, v string }{{"from_period", in.FromPeriod}, {"to_period", in.ToPeriod}} {
		if p.v != "" && !isPeriod(p.v) {
			probs = append(probs, fmt.Sprintf("%s: %q is not a YYYY-MM period", p.name, p.v))
		}
	}
	for i, p := range in.Reconcile {
		if !isPeriod(p) {
			probs = append(probs, fmt.Sprintf("reconcile[%d]: %q is not a YYYY-MM period", i, p))
		}
	}
	if in.BatchSize < 0 || in.BatchSize > activities.MaxERPBatch {
		probs = append(probs, fmt.Sprintf("batch_size: must be 0 to %d, got %d", activities.MaxERPBatch, in.BatchSize))
	}
	if len(probs) > 0 {
		return temporal.NewNonRetryableApplicationError(strings.Join(probs, "; "), ErrInvalidInput, nil)
	}
	return nil
}

// isPeriod reports whether s is a YYYY-MM month.
func isPeriod(s string) bool {
	t, err := time.Parse("2006-01", s)
	return err == nil && t.Format("2006-01") == s
}

// ERPSync posts every unposted ledger entry of an entity to NetSuite in bounded batches until
// none remain (continuing as new on long runs), then reconciles each period it touched (and each
// period in Reconcile) and returns the results. Differences are stored as recon exceptions by
// the Reconcile activity; a blocked reconciliation does not fail the workflow. Query "status"
// returns the progress.
func ERPSync(ctx workflow.Context, in ERPSyncInput) (ERPSyncState, error) {
	if err := in.validate(); err != nil {
		return ERPSyncState{}, err
	}
	st := ERPSyncState{Step: ERPStepPosting, Periods: []string{}, Reconciled: []ERPPeriodResult{}}
	if in.Progress != nil {
		st = *in.Progress
		st.Runs++
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (ERPSyncState, error) { return st, nil }); err != nil {
		return st, err
	}
	step := func(s string) {
		st.Step = s
		_ = workflow.UpsertTypedSearchAttributes(ctx,
			temporal.NewSearchAttributeKeyKeyword(SearchAttrEntity).ValueSet(in.Entity),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrStep).ValueSet(s))
	}
	step(st.Step)
	for _, p := range in.Reconcile {
		st.Periods = addPeriod(st.Periods, p)
	}
	if in.ReconcileRecent {
		now := workflow.Now(ctx).UTC()
		for _, m := range []time.Time{now.AddDate(0, 0, -now.Day()), now} { // the last day of the previous month, today
			if p := m.Format("2006-01"); in.FromPeriod <= p && (in.ToPeriod == "" || p <= in.ToPeriod) {
				st.Periods = addPeriod(st.Periods, p)
			}
		}
	}

	var erp *activities.ERP
	postCtx := workflow.WithHeartbeatTimeout(workflow.WithStartToCloseTimeout(providerActivity(ctx), erpPostTimeout), erpHeartbeat)
	if st.Step == ERPStepPosting {
		for batches := 0; ; batches++ {
			if batches >= erpBatchesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				next := in
				next.Progress = &st
				return st, workflow.NewContinueAsNewError(ctx, ERPSync, next)
			}
			var out activities.PostBatchOutput
			err := workflow.ExecuteActivity(postCtx, erp.PostBatch, activities.PostBatchInput{
				Entity: in.Entity, FromPeriod: in.FromPeriod, ToPeriod: in.ToPeriod, Limit: in.BatchSize,
			}).Get(ctx, &out)
			if err != nil {
				return st, err
			}
			st.Batches++
			st.Posted += out.Posted
			st.Journals += out.Journals
			for _, p := range out.Periods {
				st.Periods = addPeriod(st.Periods, p)
			}
			if !out.Remaining {
				break
			}
		}
		step(ERPStepReconciling)
	}

	reconCtx := workflow.WithHeartbeatTimeout(workflow.WithStartToCloseTimeout(providerActivity(ctx), 10*time.Minute), erpHeartbeat)
	worst := recon.StatusGreen
	for _, p := range st.Periods {
		if slices.ContainsFunc(st.Reconciled, func(r ERPPeriodResult) bool { return r.Period == p }) {
			continue // reconciled before a continue-as-new
		}
		ri := activities.ReconcileInput{Entity: in.Entity, Period: p}
		if slices.Contains(in.Reconcile, p) {
			ri.Run, ri.Step = in.ReconRun, in.ReconStep // the close's own period; others keep their sync run
		}
		var out activities.ReconcileOutput
		err := workflow.ExecuteActivity(reconCtx, erp.Reconcile, ri).Get(ctx, &out)
		if err != nil {
			return st, err
		}
		st.Reconciled = append(st.Reconciled, ERPPeriodResult{Period: p, Run: out.Run, Attempt: out.Attempt, Status: out.Status,
			Differences: out.Differences, Exceptions: out.Exceptions})
	}
	for _, r := range st.Reconciled {
		if r.Status.Blocks() {
			worst = recon.StatusBlocked
		} else if r.Status == recon.StatusWithinTolerance && worst == recon.StatusGreen {
			worst = r.Status
		}
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword(SearchAttrReconState).ValueSet(string(worst)))
	step(ERPStepDone)
	return st, nil
}

// addPeriod inserts p into the sorted set ps.
func addPeriod(ps []string, p string) []string {
	i, found := slices.BinarySearch(ps, p)
	if found {
		return ps
	}
	return slices.Insert(ps, i, p)
}
