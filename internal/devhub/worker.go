package devhub

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	nsfake "github.com/revhub/revhub/connectors/netsuite/fake"
)

// WorkerCommandLine is the `revhub worker` command line (arguments, then environment) that runs
// the dev stack's worker as its own process against the dev fakes, as production runs it; it
// writes the NetSuite mapping and the SSP table it names into the data dir. The dev credentials
// go in the environment, as real secrets would.
func WorkerCommandLine(o Options) (args, env []string, err error) {
	mapping := filepath.Join(o.DataDir, "netsuite-mapping.yaml")
	ssp := filepath.Join(o.DataDir, "ssp.yaml")
	if err := os.WriteFile(mapping, []byte(DevNetSuiteMapping), 0o644); err != nil {
		return nil, nil, fmt.Errorf("worker command line: %w", err)
	}
	if err := os.WriteFile(ssp, devSSP, 0o644); err != nil {
		return nil, nil, fmt.Errorf("worker command line: %w", err)
	}
	gw := paymentGatewayConfig(o)
	creds := nsfake.DefaultCredentials
	args = []string{"worker",
		"--database-url", o.DatabaseURL,
		"--temporal-address", o.TemporalAddress,
		"--task-queue", o.TaskQueue,
		"--salesforce-login-url", salesforceURL(o), "--salesforce-client-id", DevSalesforceClientID, "--salesforce-multi-currency",
		"--netsuite-account-id", nsfake.DefaultAccountID, "--netsuite-base-url", netsuiteURL(o),
		"--netsuite-consumer-key", creds.ConsumerKey, "--netsuite-token-id", creds.TokenID, "--netsuite-mapping", mapping,
		"--stripe-base-url", gw.StripeBaseURL,
		"--paypal-base-url", gw.PayPalBaseURL, "--paypal-client-id", gw.PayPalClientID, "--paypal-webhook-id", gw.PayPalWebhookID,
		"--payment-fallbacks", "USD=stripe,EUR=paypal",
		"--ssp-file", ssp,
		"--late-grace", "0s",
	}
	env = []string{
		"REVHUB_SALESFORCE_CLIENT_SECRET=" + DevSalesforceClientSecret,
		"REVHUB_NETSUITE_CONSUMER_SECRET=" + creds.ConsumerSecret,
		"REVHUB_NETSUITE_TOKEN_SECRET=" + creds.TokenSecret,
		"REVHUB_STRIPE_API_KEY=" + gw.StripeAPIKey,
		"REVHUB_STRIPE_WEBHOOK_SECRET=" + gw.StripeWebhookSecret,
		"REVHUB_PAYPAL_SECRET=" + gw.PayPalSecret,
	}
	return args, env, nil
}

// WorkerProcess is `revhub worker` run as its own process group, to be killed and restarted
// (the chaos run, the crash tests); its output goes to LogPath, or to stderr when that is empty.
type WorkerProcess struct {
	Binary  string
	Args    []string // from WorkerCommandLine, or a test's own
	Env     []string // added to this process's environment
	LogPath string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

// Start starts the worker (again, after Kill).
func (w *WorkerProcess) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := os.Stderr
	if w.LogPath != "" {
		if w.log == nil {
			f, err := os.OpenFile(w.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("worker log: %w", err)
			}
			w.log = f
		}
		out = w.log
	}
	cmd := exec.Command(w.Binary, w.Args...)
	cmd.Env = append(os.Environ(), w.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker %s: %w", w.Binary, err)
	}
	w.cmd = cmd
	return nil
}

// Kill sends SIGKILL to the worker's process group: no graceful shutdown, in-flight activities
// are lost mid-call. Killing a stopped worker does nothing.
func (w *WorkerProcess) Kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return
	}
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	_ = w.cmd.Wait()
	w.cmd = nil
}

// Stop ends the worker gracefully (SIGTERM, then SIGKILL after 10 s) and closes its log.
func (w *WorkerProcess) Stop() {
	w.mu.Lock()
	cmd := w.cmd
	w.cmd = nil
	w.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if w.log != nil {
		_ = w.log.Close()
		w.log = nil
	}
}
