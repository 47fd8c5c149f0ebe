// Package devhub is `revhub dev`: it starts (or reuses) a real Temporal dev server with its Web
// UI and stripe-mock as child processes, migrates PostgreSQL, runs the fake Salesforce, NetSuite
// and PayPal servers, the worker and the API in-process, seeds demo data, prints where each one
// listens, and stops everything on Ctrl-C.
package devhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/internal/chaos"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/server"
	"github.com/revhub/revhub/internal/tool"
	"github.com/revhub/revhub/internal/worker"
)

// Options configure the dev stack; every field has a local default in cmd/revhub.
type Options struct {
	DataDir         string // state of the dev stack: Temporal's SQLite file, child logs, the dev API key
	DatabaseURL     string
	TemporalAddress string // host:port of the Temporal frontend; reused if something listens there
	TemporalUIPort  int
	TemporalCLI     string // path of the temporal CLI; found in PATH or $GOPATH/bin when empty
	StripeMockBin   string
	StripeMockPort  int
	StripePort      int // the stateful Stripe layer in front of stripe-mock
	FakesHost       string
	SalesforcePort  int
	NetSuitePort    int
	PayPalPort      int
	TaskQueue       string
	API             server.Options
	Seed            bool
	// Chaos makes the fakes answer a share of API requests with 429s and 5xx (revhub bench close --chaos).
	Chaos *chaos.Dice
	// ExternalWorker leaves the worker out: it runs as its own process (WorkerCommandLine).
	ExternalWorker bool
	// WithoutBrokenDeal reopens the demo org's deliberately broken deal, so every demo close can end green.
	WithoutBrokenDeal bool
	// ExtraDeals adds this many copies of each won demo deal (each with its own account), for volume.
	ExtraDeals int
	// OnReady, if set, is called with the endpoints once everything is up and seeding has started.
	OnReady func([]Endpoint)
	Log     *slog.Logger
	Out     io.Writer
}

// Endpoint is one thing the dev stack runs, printed at start.
type Endpoint struct {
	Name string
	URL  string
	Note string
}

// Run brings the stack up, blocks until ctx ends, then shuts it down.
func Run(ctx context.Context, o Options) error {
	log := o.Log
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir %s: %w", o.DataDir, err)
	}
	var children []*child
	defer func() {
		for i := len(children) - 1; i >= 0; i-- {
			log.Info("stopping", "process", children[i].name)
			_ = children[i].stop(10 * time.Second)
		}
	}()
	var endpoints []Endpoint

	// PostgreSQL: the system of record, migrated to the embedded schema.
	if err := db.EnsureDatabase(ctx, o.DatabaseURL); err != nil {
		return fmt.Errorf("postgres: %w (is PostgreSQL running? scripts/setup.sh starts it)", err)
	}
	if _, err := db.MigrateUp(ctx, o.DatabaseURL, nil); err != nil {
		return err
	}
	pool, err := db.Open(ctx, o.DatabaseURL, db.PoolOptions{MaxConns: 24})
	if err != nil {
		return err
	}
	defer pool.Close()

	// Temporal dev server with its Web UI.
	tc, tchild, err := startTemporal(ctx, o, log)
	if tchild != nil {
		children = append(children, tchild)
	}
	if err != nil {
		return err
	}
	defer tc.Close()
	uiURL := "http://127.0.0.1:" + strconv.Itoa(o.TemporalUIPort)
	endpoints = append(endpoints, Endpoint{"Temporal", o.TemporalAddress, "gRPC frontend, namespace default"}, Endpoint{"Temporal UI", uiURL, ""})

	// stripe-mock.
	smAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(o.StripeMockPort))
	if listening(smAddr) {
		log.Info("reusing stripe-mock", "addr", smAddr)
	} else {
		bin, err := tool.Path("stripe-mock", o.StripeMockBin)
		if err != nil {
			return err
		}
		// HTTPS goes to a port the system chooses: revhub only speaks HTTP to it.
		c, err := startChild(o.DataDir, "stripe-mock", bin, "-http-addr", smAddr, "-https-addr", "127.0.0.1:")
		if err != nil {
			return err
		}
		children = append(children, c)
		if err := waitListening(ctx, smAddr, c, 30*time.Second); err != nil {
			return fmt.Errorf("stripe-mock: %w", err)
		}
	}
	endpoints = append(endpoints, Endpoint{"stripe-mock", "http://" + smAddr, "Stripe API shapes (stateless)"})

	g, gctx := errgroup.WithContext(ctx)

	// Fake Salesforce, NetSuite and PayPal, in-process.
	fakes, err := startFakes(gctx, g, o, log)
	if err != nil {
		return err
	}
	endpoints = append(endpoints, fakes...)

	svc, err := newServices(ctx, pool, o, log)
	if err != nil {
		return err
	}
	defer svc.ingest.Close()

	// Worker.
	if o.ExternalWorker {
		endpoints = append(endpoints, Endpoint{"worker", "external", "revhub worker, task queue " + o.TaskQueue})
	} else {
		w, err := worker.New(ctx, tc, worker.Options{TaskQueue: o.TaskQueue}, svc.workerDeps(pool, log))
		if err != nil {
			return err
		}
		g.Go(func() error { return worker.Run(gctx, w) })
	}

	// API.
	srv := server.Build(pool, tc, log, o.API, capabilities(pool, tc, svc, log))
	apiReady := make(chan string, 1)
	g.Go(func() error {
		return server.Serve(gctx, srv.Handler(), o.API, log, func(addr string) { apiReady <- addr })
	})
	var apiAddr string
	select {
	case apiAddr = <-apiReady:
	case <-gctx.Done():
		return g.Wait()
	}
	endpoints = append(endpoints, Endpoint{"API", "http://" + apiAddr, "/readyz, /metrics, /openapi.yaml"})

	// Demo data.
	if o.Seed {
		seeded, err := seed(ctx, seedEnv{pool: pool, temporal: tc, opts: o, log: log, apiURL: "http://" + apiAddr})
		if err != nil {
			log.Error("seeding demo data failed", "err", err)
		}
		endpoints = append(endpoints, seeded...)
	}

	printEndpoints(o.Out, endpoints)
	fmt.Fprintln(o.Out, "revhub dev is running; press Ctrl-C to stop everything.")
	if o.OnReady != nil {
		o.OnReady(endpoints)
	}

	childDied := make(chan error, 1)
	for _, c := range children {
		go func(c *child) {
			err := <-c.exited()
			c.done <- err
			childDied <- fmt.Errorf("%s exited unexpectedly: %v (log: %s/%s.log)", c.name, err, o.DataDir, c.name)
		}(c)
	}
	select {
	case <-gctx.Done():
	case err := <-childDied:
		if ctx.Err() == nil {
			log.Error("dev stack", "err", err)
			g.Go(func() error { return err })
		}
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) || (err == nil && ctx.Err() != nil) {
		err = nil
	}
	fmt.Fprintln(o.Out, "revhub dev: shutting down")
	return err
}

// startTemporal reuses a server already listening on the address or starts `temporal server
// start-dev` with its UI and revhub's search attributes; it returns a connected client.
func startTemporal(ctx context.Context, o Options, log *slog.Logger) (client.Client, *child, error) {
	var c *child
	if listening(o.TemporalAddress) {
		log.Info("reusing Temporal server", "addr", o.TemporalAddress)
	} else {
		bin, err := tool.Path("temporal", o.TemporalCLI)
		if err != nil {
			return nil, nil, err
		}
		host, port, err := net.SplitHostPort(o.TemporalAddress)
		if err != nil {
			return nil, nil, fmt.Errorf("temporal address %q: %w", o.TemporalAddress, err)
		}
		args := []string{"server", "start-dev", "--ip", host, "--port", port,
			"--ui-port", strconv.Itoa(o.TemporalUIPort), "--db-filename", o.DataDir + "/temporal.db", "--log-level", "warn"}
		for _, sa := range SearchAttributes {
			args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
		}
		c, err = startChild(o.DataDir, "temporal", bin, args...)
		if err != nil {
			return nil, nil, err
		}
		if err := waitListening(ctx, o.TemporalAddress, c, 90*time.Second); err != nil {
			return nil, c, fmt.Errorf("temporal: %w", err)
		}
	}
	tc, err := dialTemporal(ctx, o.TemporalAddress, log)
	if err != nil {
		return nil, c, err
	}
	if err := EnsureSearchAttributes(ctx, tc); err != nil {
		log.Warn("registering search attributes", "err", err)
	}
	return tc, c, nil
}

func dialTemporal(ctx context.Context, addr string, log *slog.Logger) (client.Client, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		tc, err := client.Dial(client.Options{HostPort: addr, Namespace: "default", Logger: tlog.NewStructuredLogger(log.With("component", "temporal-client"))})
		if err == nil {
			if _, err = tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err == nil {
				return tc, nil
			}
			tc.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("temporal %s not healthy: %w", addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func printEndpoints(out io.Writer, eps []Endpoint) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SERVICE\tLISTENS ON\tNOTE")
	for _, e := range eps {
		fmt.Fprintf(w, "%s\t%s\t%s\n", e.Name, e.URL, e.Note)
	}
	_ = w.Flush()
}
