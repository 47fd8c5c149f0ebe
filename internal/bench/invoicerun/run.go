// Package invoicerun is `revhub bench invoice-run`: it seeds a realistic mix of contracts and usage,
// invoices and collects every contract end to end through Temporal (BillingCycle, which charges
// once itself, and a Collect child where money is still due) against the payment fakes, then
// verifies the outcome exactly and reports the speed.
package invoicerun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/devhub"
	"github.com/revhub/revhub/workflows"
)

// Options configure a run; zero values take the defaults noted.
type Options struct {
	DatabaseURL      string // PostgreSQL, migrated
	TemporalAddress  string // host:port of a Temporal frontend; empty starts a dedicated dev server
	TemporalCLI      string // temporal binary for the dev server; empty: $PATH, then ~/go/bin
	TemporalDBFile   string // dev server SQLite file; empty keeps its state in memory
	TemporalArgs     []string
	StripeMockBinary string // empty: stripe-mock from $PATH or ~/go/bin
	TaskQueue        string // empty: a fresh queue for the run

	Contracts        int       // default 10,000
	Run              string    // run id in contract and customer ids; empty: random
	PeriodStart      time.Time // first day of the billed month; zero: the previous calendar month
	StartConcurrency int       // concurrent workflow starts; default 64
	SeedConcurrency  int       // concurrent contract inserts and ingest batches; default 8
	Timeout          time.Duration

	PoolSize                   int // pgx pool connections; default 12
	MaxConcurrentActivities    int // default 200
	MaxConcurrentWorkflowTasks int // default 1,000: a cycle's task holds its slot while its local activities run
	ActivityPollers            int // default 8
	WorkflowPollers            int // default 8
	// EagerStart asks the server to hand each BillingCycle's first task straight to the in-process
	// worker (needs system.enableEagerWorkflowStart on the server). A start finding no free workflow
	// task slot falls back to the task queue, which costs the server a dispatch and a task-start write.
	EagerStart bool

	CPUProfile string // if set, a CPU profile of this process from first start to last close is written here

	Log *slog.Logger
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Contracts, 10000)
	def(&o.StartConcurrency, 64)
	def(&o.SeedConcurrency, 8)
	def(&o.PoolSize, 12)
	def(&o.MaxConcurrentActivities, 200)
	def(&o.MaxConcurrentWorkflowTasks, 1000)
	def(&o.ActivityPollers, 8)
	def(&o.WorkflowPollers, 8)
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Run == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		o.Run = hex.EncodeToString(b)
	}
	if o.TaskQueue == "" {
		o.TaskQueue = "bench-invoice-run-" + o.Run
	}
	if o.PeriodStart.IsZero() {
		now := time.Now().UTC()
		o.PeriodStart = time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Validate reports every bad option at once.
func (o *Options) Validate() error {
	var errs []error
	if o.DatabaseURL == "" {
		errs = append(errs, errors.New("database_url: required"))
	}
	if o.Contracts > 1_000_000 {
		errs = append(errs, fmt.Errorf("contracts: %d is more than 1,000,000", o.Contracts))
	}
	if p := o.PeriodStart; !p.IsZero() && (p.Day() != 1 || p.Hour() != 0 || p.Minute() != 0 || p.Second() != 0 || p.Nanosecond() != 0) {
		errs = append(errs, fmt.Errorf("period_start: %s must be the first day of a month at midnight UTC", p.Format(time.RFC3339)))
	}
	if p := o.PeriodStart; !p.IsZero() && p.AddDate(0, 1, 0).After(time.Now()) {
		errs = append(errs, fmt.Errorf("period_start: the month of %s has not ended yet; the bench bills a past period", p.Format(time.DateOnly)))
	}
	for _, c := range []struct {
		name string
		v    int
	}{{"contracts", o.Contracts}, {"start_concurrency", o.StartConcurrency}, {"seed_concurrency", o.SeedConcurrency}, {"pool_size", o.PoolSize},
		{"max_concurrent_activities", o.MaxConcurrentActivities}, {"max_concurrent_workflow_tasks", o.MaxConcurrentWorkflowTasks},
		{"activity_pollers", o.ActivityPollers}, {"workflow_pollers", o.WorkflowPollers}} {
		if c.v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %d", c.name, c.v))
		}
	}
	return errors.Join(errs...)
}

// Report is what a run measured and verified.
type Report struct {
	Contracts     int
	Run           string
	TaskQueue     string
	Period        string
	Temporal      string // where the Temporal server came from
	Seed          time.Duration
	Wall          time.Duration // first workflow start to last workflow close (Temporal's start and close times)
	Listed        time.Duration // first start request to visibility listing every cycle closed (what the run waited for)
	Starts        time.Duration // time to start every BillingCycle
	InvoicesPerS  float64       // display only: contracts / wall seconds
	Workflows     map[string]map[string]int
	Activities    map[string]int           // executions by activity type, retries included
	ActivityMean  map[string]time.Duration // mean execution time by activity type
	ActivityFails int64                    // executions that returned an error (retried by Temporal)
	LatencyP50    time.Duration            // BillingCycle start to the close of the workflow that settled it, per contract
	LatencyP99    time.Duration
	LatencyMax    time.Duration
	PeakRSS       int64 // bytes, this process (worker, fakes, client)
	Verification  *Verification
	Options       Options

	plans    []Planned // what the generator planned
	observed *Observed // what the run left behind
}

// Run seeds, runs and verifies one invoice run.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	o.defaults()
	log := o.Log
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	pool, err := db.Open(ctx, o.DatabaseURL, db.PoolOptions{MaxConns: int32(o.PoolSize)})
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: database: %w", err)
	}
	defer pool.Close()
	ts, err := startTemporal(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	defer ts.stop()
	tc, err := client.Dial(client.Options{HostPort: ts.addr, Namespace: "default", Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: dial temporal %s: %w", ts.addr, err)
	}
	defer tc.Close()
	if err := devhub.EnsureSearchAttributes(ctx, tc); err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	fakes, err := startFakes(ctx, o, log)
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	defer fakes.stop()

	g := &Generator{Run: o.Run, PeriodStart: o.PeriodStart}
	rep := &Report{Contracts: o.Contracts, Run: o.Run, TaskQueue: o.TaskQueue, Options: o,
		Period: g.PeriodStart.Format(time.DateOnly) + ".." + g.PeriodEnd().Format(time.DateOnly), Temporal: "dedicated dev server (in memory)"}
	if o.TemporalAddress != "" {
		rep.Temporal = "existing server " + o.TemporalAddress
	} else if o.TemporalDBFile != "" {
		rep.Temporal = "dedicated dev server (SQLite file " + o.TemporalDBFile + ")"
	}
	log.Info("seeding", "contracts", o.Contracts, "run", o.Run)
	t0 := time.Now()
	plans, err := Seed(ctx, pool, g, o.Contracts, o.SeedConcurrency)
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	rep.Seed = time.Since(t0)

	cnt := &counter{}
	w, err := startWorker(ctx, tc, pool, fakes, o, log, cnt)
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	defer w.Stop()

	log.Info("starting billing cycles", "contracts", o.Contracts, "task_queue", o.TaskQueue)
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	defer stopProfile()
	start := time.Now()
	if err := startCycles(ctx, tc, g, plans, o); err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	rep.Starts = time.Since(start)
	if err := waitClosed(ctx, tc, pool, g, o, len(plans), log); err != nil {
		return nil, fmt.Errorf("bench invoice-run: %w", err)
	}
	rep.Listed = time.Since(start)
	stopProfile()
	w.Stop()
	rep.Activities, rep.ActivityMean = cnt.snapshot()
	rep.ActivityFails = cnt.failed.Load()
	rep.PeakRSS = peakRSS()

	obs, err := Observe(ctx, pool, g, fakes)
	if err != nil {
		return rep, fmt.Errorf("bench invoice-run: %w", err)
	}
	lat, span, err := observeWorkflows(ctx, tc, o.TaskQueue, obs)
	if err != nil {
		return rep, fmt.Errorf("bench invoice-run: %w", err)
	}
	rep.Wall = span
	if span > 0 {
		rep.InvoicesPerS = float64(len(plans)) / span.Seconds()
	}
	rep.Workflows = obs.Workflows
	rep.LatencyP50, rep.LatencyP99, rep.LatencyMax = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	rep.plans, rep.observed = plans, obs
	rep.Verification = Compare(plans, obs, true)
	return rep, nil
}

// startCycles starts one BillingCycle per contract for the period, o.StartConcurrency at a time.
// A cycle already started (a rerun with the same run id) is attached to, not started twice.
func startCycles(ctx context.Context, tc client.Client, g *Generator, plans []Planned, o Options) error {
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(o.StartConcurrency)
	period := g.PeriodStart.Format(time.DateOnly)
	in := workflows.BillingCycleInput{PeriodStart: period, PeriodEnd: g.PeriodEnd().Format(time.DateOnly)}
	for i := range plans {
		eg.Go(func() error {
			v := plans[i].Version
			cin := in
			cin.ContractID = v.ContractID
			// As the month-end close starts its cycles: with the search attributes revenue ops filter by.
			_, err := tc.ExecuteWorkflow(ectx, client.StartWorkflowOptions{ID: workflows.BillingCycleID(v.ContractID, period), TaskQueue: o.TaskQueue,
				EnableEagerStart: o.EagerStart, TypedSearchAttributes: workflows.CycleSearchAttributes(v.BillingEntity, v.Customer.ExternalID, period)},
				workflows.BillingCycle, cin)
			if err != nil {
				return fmt.Errorf("start billing cycle of %s: %w", v.ContractID, err)
			}
			return nil
		})
	}
	return eg.Wait()
}

// waitClosed waits until `cycles` BillingCycles on the task queue have closed and nothing there runs
// any more (a cycle whose first charge did not settle hands over to a Collect child, started before
// the cycle closes). While invoices of the run are still unpaid it polls PostgreSQL, which is cheap,
// and asks Temporal's visibility store (the dev server's single SQLite connection, which every
// workflow close also writes to) only every few seconds; once all are paid it polls visibility.
func waitClosed(ctx context.Context, tc client.Client, pool *pgxpool.Pool, g *Generator, o Options, cycles int, log *slog.Logger) error {
	closedQ := fmt.Sprintf("TaskQueue = '%s' AND WorkflowType = '%s' AND ExecutionStatus != 'Running'", o.TaskQueue, workflowBilling)
	runningQ := fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", o.TaskQueue)
	count := func(q string) (int, error) {
		res, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: q})
		if err != nil {
			return 0, fmt.Errorf("count workflows: %w", err)
		}
		return int(res.GetCount()), nil
	}
	var lastVisibility, lastLog time.Time
	for {
		var paid int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE contract_id LIKE $1 AND status = 'paid'`,
			"b"+g.Run+"-ctr-%").Scan(&paid); err != nil {
			return fmt.Errorf("count paid invoices: %w", err)
		}
		if paid >= cycles || time.Since(lastVisibility) > 5*time.Second {
			lastVisibility = time.Now()
			closed, err := count(closedQ)
			if err != nil {
				return err
			}
			if closed >= cycles {
				running, err := count(runningQ)
				if err != nil {
					return err
				}
				if running == 0 {
					return nil
				}
			}
			if time.Since(lastLog) > 10*time.Second {
				log.Info("waiting", "invoices_paid", paid, "cycles_closed", closed, "of", cycles)
				lastLog = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d billing cycles to close: %w (paid: %d)", cycles, ctx.Err(), paid)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// observeWorkflows lists the task queue's workflows into o.Workflows and returns each contract's
// latency (its BillingCycle's start to the close of the workflow that settled it: the cycle itself
// when its first charge was paid, else its Collect child) and the span from the first workflow's
// start to the last one's close, both by Temporal's own times.
func observeWorkflows(ctx context.Context, tc client.Client, taskQueue string, o *Observed) ([]time.Duration, time.Duration, error) {
	started := map[string]time.Time{}     // contract id -> BillingCycle start
	cycleClosed := map[string]time.Time{} // contract id -> BillingCycle close
	collected := map[string]time.Time{}   // invoice id -> Collect close
	var first, last time.Time
	var token []byte
	for {
		res, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", PageSize: 1000, NextPageToken: token,
			Query: fmt.Sprintf("TaskQueue = '%s'", taskQueue)})
		if err != nil {
			return nil, 0, fmt.Errorf("list workflows: %w", err)
		}
		for _, ex := range res.GetExecutions() {
			if st := ex.GetStartTime().AsTime(); first.IsZero() || st.Before(first) {
				first = st
			}
			if ex.GetCloseTime() != nil && ex.GetCloseTime().AsTime().After(last) {
				last = ex.GetCloseTime().AsTime()
			}
			typ := ex.GetType().GetName()
			if o.Workflows[typ] == nil {
				o.Workflows[typ] = map[string]int{}
			}
			o.Workflows[typ][ex.GetStatus().String()]++
			id := ex.GetExecution().GetWorkflowId()
			switch typ {
			case workflowBilling:
				// invoice/{contract}/{period}
				if parts := strings.SplitN(id, "/", 3); len(parts) == 3 {
					started[parts[1]] = ex.GetStartTime().AsTime()
					if ex.GetCloseTime() != nil {
						cycleClosed[parts[1]] = ex.GetCloseTime().AsTime()
					}
				}
			case workflowCollect:
				if ex.GetCloseTime() != nil {
					collected[strings.TrimPrefix(id, "collect/")] = ex.GetCloseTime().AsTime()
				}
			}
		}
		token = res.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	var lat []time.Duration
	for contractID, inv := range o.Invoices {
		s, ok := started[contractID]
		c, settled := collected[inv.ID]
		if !settled {
			c, settled = cycleClosed[contractID]
		}
		if ok && settled {
			lat = append(lat, c.Sub(s))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if first.IsZero() || last.Before(first) {
		return lat, 0, nil
	}
	return lat, last.Sub(first), nil
}

// percentile returns the p-th percentile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted) + 99) / 100
	i = min(max(i, 1), len(sorted))
	return sorted[i-1]
}
