package invoicerun

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/revhub/revhub/activities"
	ppfake "github.com/revhub/revhub/connectors/paypal/fake"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/devhub"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
	"github.com/revhub/revhub/internal/tool"
	"github.com/revhub/revhub/internal/worker"
)

// Credentials of the in-process payment fakes (test values, not secrets).
const (
	stripeKey     = "sk_test_bench"
	stripeWHSec   = "whsec_bench"
	paypalID      = "bench-client"
	paypalSecret  = "bench-secret"
	paypalWebhook = "WH-BENCH"
)

// temporalServer is the Temporal frontend the run uses: a dev server it started, or one given.
type temporalServer struct {
	addr string
	dev  *testsuite.DevServer
	log  *os.File
}

// startTemporal dials o.TemporalAddress, or starts a dedicated `temporal server start-dev` (in
// memory, or SQLite at o.TemporalDBFile) with revhub's search attributes.
func startTemporal(ctx context.Context, o Options) (*temporalServer, error) {
	if o.TemporalAddress != "" {
		return &temporalServer{addr: o.TemporalAddress}, nil
	}
	bin, err := tool.Path("temporal", o.TemporalCLI)
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "revhub-bench-temporal-*.log")
	if err != nil {
		return nil, fmt.Errorf("temporal dev server log: %w", err)
	}
	// The dev server re-reads the search attribute definitions from its store on every use unless
	// told otherwise (so that tests see new ones at once); a production server caches them. They are
	// all registered below, before the first workflow, so the cache is safe and saves a store read
	// per workflow start and per visibility record.
	args := []string{"--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true",
		"--dynamic-config-value", "system.enableEagerWorkflowStart=true",
		"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=false"}
	for _, sa := range devhub.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	args = append(args, o.TemporalArgs...)
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(sctx, testsuite.DevServerOptions{
		ExistingPath: bin, LogLevel: "error", DBFilename: o.TemporalDBFile, ExtraArgs: args, Stdout: logf, Stderr: logf,
		ClientOptions: &client.Options{Namespace: "default", Logger: quiet{}},
	})
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("start temporal dev server (log %s): %w", logf.Name(), err)
	}
	return &temporalServer{addr: dev.FrontendHostPort(), dev: dev, log: logf}, nil
}

func (t *temporalServer) stop() {
	if t.dev != nil {
		_ = t.dev.Stop()
		t.log.Close()
	}
}

// Fakes are the payment providers of the run: the Stripe layer over stripe-mock and the PayPal fake.
type Fakes struct {
	Stripe  *stfake.Server
	PayPal  *ppfake.Server
	mock    *stfake.Mock
	servers []*http.Server
	Gateway *gateway.Gateway
}

// startFakes starts stripe-mock, serves the Stripe layer and the PayPal fake on loopback, and builds
// the payment gateway pointed at them.
func startFakes(ctx context.Context, o Options, log *slog.Logger) (*Fakes, error) {
	mock, err := stfake.StartMock(ctx, stfake.MockOptions{Binary: o.StripeMockBinary})
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second}}
	f := &Fakes{mock: mock,
		Stripe: stfake.New(stfake.Options{MockURL: mock.URL, WebhookSecret: stripeWHSec, HTTPClient: hc}),
		PayPal: ppfake.New(ppfake.Options{ClientID: paypalID, Secret: paypalSecret, WebhookID: paypalWebhook})}
	stripeURL, err := f.serve(f.Stripe.Handler())
	if err != nil {
		f.stop()
		return nil, err
	}
	paypalURL, err := f.serve(f.PayPal.Handler())
	if err != nil {
		f.stop()
		return nil, err
	}
	f.Gateway, err = gateway.New(gateway.Config{
		StripeAPIKey: stripeKey, StripeBaseURL: stripeURL, StripeWebhookSecret: stripeWHSec,
		PayPalBaseURL: paypalURL, PayPalClientID: paypalID, PayPalSecret: paypalSecret, PayPalWebhookID: paypalWebhook,
		HTTPClient: hc,
	}, log)
	if err != nil {
		f.stop()
		return nil, err
	}
	return f, nil
}

func (f *Fakes) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("payment fake: listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	f.servers = append(f.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

func (f *Fakes) stop() {
	for _, s := range f.servers {
		_ = s.Close()
	}
	if f.mock != nil {
		_ = f.mock.Stop()
	}
}

// counter counts activity executions (retries included) by activity type.
type counter struct {
	interceptor.WorkerInterceptorBase
	mu     sync.Mutex
	counts map[string]int
	busy   map[string]time.Duration
	failed atomic.Int64
}

func (c *counter) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &countingActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, c: c}
}

type countingActivity struct {
	interceptor.ActivityInboundInterceptorBase
	c *counter
}

func (a *countingActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	name := activity.GetInfo(ctx).ActivityType.Name
	a.c.mu.Lock()
	if a.c.counts == nil {
		a.c.counts = map[string]int{}
	}
	a.c.counts[name]++
	a.c.mu.Unlock()
	t0 := time.Now()
	out, err := a.Next.ExecuteActivity(ctx, in)
	d := time.Since(t0)
	a.c.mu.Lock()
	if a.c.busy == nil {
		a.c.busy = map[string]time.Duration{}
	}
	a.c.busy[name] += d
	a.c.mu.Unlock()
	if err != nil {
		a.c.failed.Add(1)
	}
	return out, err
}

// snapshot returns the executions and the mean execution time per activity type.
func (c *counter) snapshot() (map[string]int, map[string]time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	mean := make(map[string]time.Duration, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
		mean[k] = c.busy[k] / time.Duration(v)
	}
	return out, mean
}

// startWorker runs an in-process revhub worker on the run's task queue with every workflow and
// activity registered (worker.Register), the payment gateway of the fakes and the tuning options.
func startWorker(ctx context.Context, tc client.Client, pool *pgxpool.Pool, f *Fakes, o Options, log *slog.Logger, cnt *counter) (sdkworker.Worker, error) {
	chart := ledger.DefaultChart()
	if err := ledger.SyncChart(ctx, pool, chart); err != nil {
		return nil, fmt.Errorf("sync chart of accounts: %w", err)
	}
	w := sdkworker.New(tc, o.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     o.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: o.MaxConcurrentWorkflowTasks,
		MaxConcurrentActivityTaskPollers:       o.ActivityPollers,
		MaxConcurrentWorkflowTaskPollers:       o.WorkflowPollers,
		WorkerActivitiesPerSecond:              0,
		Interceptors:                           []interceptor.WorkerInterceptor{cnt},
	})
	worker.Register(w, activities.New(activities.Deps{
		Pool: pool, Log: log, Chart: chart, Payments: payment.NewService(pool, f.Gateway.Registry, log),
	}))
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return w, nil
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
