// Package fake is a thin, stateful HTTP layer in front of stripe-mock. stripe-mock checks request
// shapes against Stripe's own API description but keeps no state, ignores Idempotency-Key and
// sends no webhooks; this layer records every request, replays the first answer for a repeated
// Idempotency-Key (400 idempotency_error for the same key with other parameters), remembers the
// PaymentIntents and refunds it created so retrieves, lists and searches return them, injects
// declines and faults, and signs webhook events as Stripe does.
package fake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/revhub/revhub/internal/tool"
)

// Mock is a stripe-mock child process.
type Mock struct {
	URL string // base URL, e.g. http://127.0.0.1:40123
	cmd *exec.Cmd
}

// MockBinary finds stripe-mock: $REVHUB_STRIPE_MOCK, then $PATH, then $GOPATH/bin.
func MockBinary() (string, error) { return tool.Path("stripe-mock", os.Getenv("REVHUB_STRIPE_MOCK")) }

// MockOptions choose the stripe-mock binary and port; zero values mean MockBinary and a free port.
type MockOptions struct {
	Binary string
	Port   int
}

// StartMock starts stripe-mock on loopback and waits until it answers; Stop ends it.
func StartMock(ctx context.Context, o MockOptions) (*Mock, error) {
	bin := o.Binary
	if bin == "" {
		var err error
		if bin, err = MockBinary(); err != nil {
			return nil, err
		}
	}
	port := o.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	// Loopback only, and HTTPS on a port the system chooses (its default 12112 would collide
	// between test packages running at once).
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:"+strconv.Itoa(port), "-https-addr", "127.0.0.1:")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	m := &Mock{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/v1/customers", nil)
		req.SetBasicAuth("sk_test_ready", "")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = m.Stop()
			return nil, fmt.Errorf("stripe-mock on port %d did not answer: %w", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the stripe-mock process.
func (m *Mock) Stop() error {
	if m.cmd.Process == nil {
		return nil
	}
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
