// Package chaosclose is `revhub bench close --chaos`: the dev stack's demo month-end close run
// with the worker as its own process, SIGKILLed at random points, while every fake provider
// answers a share of its requests with 429s and 5xx; then an exact check that every invoice,
// charge, journal entry and ERP post exists once and every reconciliation is green.
package chaosclose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/internal/chaos"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/devhub"
	"github.com/revhub/revhub/internal/server"
	"github.com/revhub/revhub/workflows"
)

// Options configure a chaos run; zero values take the defaults in brackets.
type Options struct {
	DatabaseURL   string        // a database of the run's own (created and migrated if missing)
	Chaos         bool          // kill the worker and inject faults; without it the close runs undisturbed
	Binary        string        // the revhub binary the worker processes run [os.Executable()]
	DataDir       string        // dev stack state, worker and child logs [a temporary directory]
	Kills         int           // SIGKILLs of the worker during the close [5]
	FaultRate     float64       // share of fake provider requests answered 429 or 5xx [0.10]
	Seed          uint64        // seeds the kill times and the faults [the clock]
	KillMin       time.Duration // shortest time between two kills [1s]
	KillMax       time.Duration // longest time between two kills [4s]
	Timeout       time.Duration // give up after this long [15m]
	ExtraDeals    int           // copies of each won demo deal added to the fake org, for volume [10]
	TemporalCLI   string        // temporal CLI path [PATH or $GOPATH/bin]
	StripeMockBin string        // stripe-mock path [PATH or $GOPATH/bin]
	Log           *slog.Logger  // the bench's own log [discarded]
}

func (o *Options) defaults() error {
	if o.DatabaseURL == "" {
		return errors.New("chaos close: DatabaseURL is required")
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("chaos close: the revhub binary: %w", err)
		}
		o.Binary = exe
	}
	if !o.Chaos {
		o.Kills, o.FaultRate = 0, 0
	}
	if o.Chaos && o.Kills == 0 {
		o.Kills = 5
	}
	if o.Chaos && o.FaultRate == 0 {
		o.FaultRate = 0.10
	}
	if o.FaultRate < 0 || o.FaultRate >= 1 {
		return fmt.Errorf("chaos close: fault rate %v: must be at least 0 and below 1", o.FaultRate)
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.KillMin <= 0 {
		o.KillMin = time.Second
	}
	if o.KillMax < o.KillMin {
		o.KillMax = max(4*time.Second, o.KillMin)
	}
	if o.ExtraDeals == 0 {
		o.ExtraDeals = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Kill is one SIGKILL of the worker: when, and where each close stood just before.
type Kill struct {
	After time.Duration     // since the closes started
	Steps map[string]string // entity -> the close's current step
}

// Report is what a chaos run did and found.
type Report struct {
	Period      string
	Entities    []string
	Seed        uint64
	FaultRate   float64
	Wall        time.Duration // closes started to all closes completed
	Settle      time.Duration // then until no charge was pending and every card or PayPal invoice was paid
	Kills       []Kill
	Faults      chaos.Stats
	Closes      map[string]workflows.CloseState // by entity
	Observed    *Observed
	Differences []string // every failed expectation; empty means the run passed
}

// OK reports whether every expectation held.
func (r *Report) OK() bool { return len(r.Differences) == 0 }

// Run brings up the dev stack with faulty fakes and an external worker, lets the demo closes run
// while killing the worker o.Kills times, waits for the closes, and verifies the outcome.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "revhub-chaos-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	var dice *chaos.Dice
	if o.FaultRate > 0 {
		dice = chaos.New(o.FaultRate, o.Seed)
	}
	dev := devhub.Options{
		DataDir: filepath.Join(o.DataDir, "dev"), DatabaseURL: o.DatabaseURL,
		TemporalAddress: "127.0.0.1:" + strconv.Itoa(ports[0]), TemporalUIPort: ports[1], TemporalCLI: o.TemporalCLI,
		StripeMockBin: o.StripeMockBin, StripeMockPort: ports[2], StripePort: ports[3], FakesHost: "127.0.0.1",
		SalesforcePort: ports[4], NetSuitePort: ports[5], PayPalPort: ports[6],
		TaskQueue: "revhub-chaos", API: server.Options{Listen: "127.0.0.1:" + strconv.Itoa(ports[7]), MaxBody: 1 << 20, ShutdownTimeout: 5 * time.Second},
		Seed: true, Chaos: dice, ExternalWorker: true, WithoutBrokenDeal: true, ExtraDeals: max(o.ExtraDeals, 0), Log: o.Log, Out: io.Discard,
	}
	if err := os.MkdirAll(dev.DataDir, 0o755); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	devErr := make(chan error, 1)
	devCtx, stopDev := context.WithCancel(ctx)
	defer func() {
		stopDev()
		<-devErr
	}()
	dev.OnReady = func([]devhub.Endpoint) { close(ready) }
	go func() { devErr <- devhub.Run(devCtx, dev) }()
	select {
	case <-ready:
	case err := <-devErr:
		devErr <- err
		return nil, fmt.Errorf("chaos close: dev stack: %w", err)
	case <-ctx.Done():
		return nil, fmt.Errorf("chaos close: dev stack not ready: %w", ctx.Err())
	}

	args, env, err := devhub.WorkerCommandLine(dev)
	if err != nil {
		return nil, err
	}
	w := &devhub.WorkerProcess{Binary: o.Binary, Args: append(args, "--log-level", "warn"), Env: env, LogPath: filepath.Join(o.DataDir, "worker.log")}
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()

	tc, err := client.DialContext(ctx, client.Options{HostPort: dev.TemporalAddress, Logger: quietTemporalLog{}})
	if err != nil {
		return nil, fmt.Errorf("chaos close: temporal: %w", err)
	}
	defer tc.Close()

	now := time.Now().UTC()
	rep := &Report{Period: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01"),
		Entities: append([]string(nil), devhub.DevEntities...), Seed: o.Seed, FaultRate: o.FaultRate, Closes: map[string]workflows.CloseState{}}
	ids := make([]string, len(rep.Entities))
	for i, e := range rep.Entities {
		ids[i] = workflows.CloseID(e, rep.Period)
	}
	if err := waitStarted(ctx, tc, ids); err != nil {
		return rep, err
	}
	o.Log.Info("closes started; killing the worker at random points", "kills", o.Kills, "period", rep.Period)
	start := time.Now()

	// The killer: o.Kills SIGKILLs at random intervals while the closes run, each followed by a restart.
	var mu sync.Mutex
	killsDone := make(chan struct{})
	go func() {
		defer close(killsDone)
		rnd := rand.New(rand.NewPCG(o.Seed, 1))
		for range o.Kills {
			wait := o.KillMin + time.Duration(rnd.Int64N(int64(o.KillMax-o.KillMin)+1))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return
			}
			if allClosed(ctx, tc, ids) {
				return
			}
			steps := currentSteps(ctx, tc, rep.Entities, rep.Period)
			w.Kill()
			mu.Lock()
			rep.Kills = append(rep.Kills, Kill{After: time.Since(start), Steps: steps})
			mu.Unlock()
			o.Log.Info("worker killed", "after", time.Since(start).Round(time.Millisecond), "steps", steps)
			time.Sleep(time.Duration(300+rnd.IntN(1500)) * time.Millisecond)
			if err := w.Start(); err != nil {
				o.Log.Error("worker restart", "err", err)
				return
			}
		}
	}()

	for i, id := range ids {
		st, err := waitClose(ctx, tc, id)
		if err != nil {
			return rep, err
		}
		rep.Closes[rep.Entities[i]] = st
	}
	rep.Wall = time.Since(start)
	<-killsDone
	// Collection runs on after the close has started it: wait (bounded) for the charges that a kill
	// interrupted to be resolved by their retries before counting.
	settle := time.Now()
	pool, err := db.Open(ctx, dev.DatabaseURL, db.PoolOptions{MaxConns: 2})
	if err != nil {
		return rep, err
	}
	defer pool.Close()
	if err := waitSettled(ctx, pool, 5*time.Minute, o.Log); err != nil {
		return rep, err
	}
	rep.Settle = time.Since(settle)
	rep.Faults = dice.Stats()

	obs, err := Observe(ctx, pool, dev)
	if err != nil {
		return rep, err
	}
	rep.Observed = obs
	mu.Lock()
	defer mu.Unlock()
	rep.Differences = Verify(rep, obs, o.Kills)
	return rep, nil
}

// waitStarted waits until every close workflow exists (the dev seeding starts them once the
// intake has turned the demo deals into contracts).
func waitStarted(ctx context.Context, tc client.Client, ids []string) error {
	for _, id := range ids {
		for {
			_, err := tc.DescribeWorkflowExecution(ctx, id, "")
			if err == nil {
				break
			}
			var nf *serviceerror.NotFound
			if !errors.As(err, &nf) {
				return fmt.Errorf("chaos close: describe %s: %w", id, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("chaos close: %s never started: %w", id, ctx.Err())
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// allClosed reports whether every close workflow has finished.
func allClosed(ctx context.Context, tc client.Client, ids []string) bool {
	for _, id := range ids {
		d, err := tc.DescribeWorkflowExecution(ctx, id, "")
		if err != nil || d.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return false
		}
	}
	return true
}

// currentSteps asks each running close where it stands (best effort: a close that does not
// answer within a few seconds is left out).
func currentSteps(ctx context.Context, tc client.Client, entities []string, period string) map[string]string {
	out := map[string]string{}
	for _, e := range entities {
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		v, err := tc.QueryWorkflow(qctx, workflows.CloseID(e, period), "", workflows.QueryStatus)
		cancel()
		var st workflows.CloseState
		if err == nil && v.Get(&st) == nil {
			out[e] = st.Step
			if st.Done {
				out[e] = "done"
			}
		}
	}
	return out
}

// waitClose waits for a close to complete; a close that stops to wait for a decision (a check
// beyond tolerance, a failed billing cycle) fails the run at once with its state.
func waitClose(ctx context.Context, tc client.Client, id string) (workflows.CloseState, error) {
	for {
		d, err := tc.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return workflows.CloseState{}, fmt.Errorf("chaos close: describe %s: %w", id, err)
		}
		switch d.GetWorkflowExecutionInfo().GetStatus() {
		case enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
			var st workflows.CloseState
			if err := tc.GetWorkflow(ctx, id, "").Get(ctx, &st); err != nil {
				return st, fmt.Errorf("chaos close: %s: %w", id, err)
			}
			return st, nil
		default:
			return workflows.CloseState{}, fmt.Errorf("chaos close: %s ended %s", id, d.GetWorkflowExecutionInfo().GetStatus())
		}
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		v, err := tc.QueryWorkflow(qctx, id, "", workflows.QueryStatus)
		cancel()
		var st workflows.CloseState
		if err == nil && v.Get(&st) == nil && st.Recon == workflows.CloseReconBlocked {
			return st, fmt.Errorf("chaos close: %s is blocked at step %s waiting for a decision: %v", id, st.Step, st.Summary())
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("chaos close: %s did not finish: %w (last seen: %v)", id, ctx.Err(), st.Summary())
		case <-time.After(2 * time.Second):
		}
	}
}

// freePorts asks the system for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var out []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("chaos close: free port: %w", err)
		}
		lns = append(lns, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// quietTemporalLog drops the SDK client's own log lines.
type quietTemporalLog struct{}

func (quietTemporalLog) Debug(string, ...any) {}
func (quietTemporalLog) Info(string, ...any)  {}
func (quietTemporalLog) Warn(string, ...any)  {}
func (quietTemporalLog) Error(string, ...any) {}

// waitSettled waits, at most limit, until no payment is pending and every invoice with an amount
// due that is collected by a provider (not a bank transfer) is paid; what is still open then is
// left for the verification to report.
func waitSettled(ctx context.Context, pool db.Querier, limit time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(limit)
	for {
		var pending, unpaid int
		err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM payments WHERE status = 'pending'),
			(SELECT count(*) FROM invoices i JOIN contract_versions v ON v.contract_id = i.contract_id AND v.version = i.contract_version
			  WHERE v.payment_provider <> 'bank' AND i.total > 0 AND i.status <> 'paid')`).Scan(&pending, &unpaid)
		if err != nil {
			return fmt.Errorf("chaos close: settle: %w", err)
		}
		if pending == 0 && unpaid == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			log.Warn("collection did not settle", "pending_payments", pending, "unpaid_invoices", unpaid, "waited", limit)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos close: settle: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}
