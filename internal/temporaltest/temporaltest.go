// Package temporaltest gives integration tests a real Temporal dev server: the one named by
// REVHUB_TEST_TEMPORAL_ADDRESS (scripts/test.sh starts one for the whole run), or else one
// started for this test process from the installed `temporal` CLI via the SDK's dev-server
// helper with ExistingPath, so nothing is downloaded. A missing CLI fails the test.
package temporaltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/revhub/revhub/internal/tool"
)

var (
	once    sync.Once
	address string
	initErr error
	server  *testsuite.DevServer
)

// CLIPath finds the temporal CLI: $REVHUB_TEMPORAL_CLI, then PATH, then $(go env GOPATH)/bin.
func CLIPath() (string, error) { return tool.Path("temporal", os.Getenv("REVHUB_TEMPORAL_CLI")) }

// Address returns host:port of a running dev server, starting one if needed.
func Address(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if a := os.Getenv("REVHUB_TEST_TEMPORAL_ADDRESS"); a != "" {
			address = a
			return
		}
		path, err := CLIPath()
		if err != nil {
			initErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The server's output goes to a file, not this process's pipes, so `go test` does not
		// wait on them; Main stops the server when the package's tests end.
		logf, err := os.CreateTemp("", "temporal-dev-*.log")
		if err != nil {
			initErr = err
			return
		}
		args := []string{"--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true"}
		for _, sa := range []string{"RevhubEntity", "RevhubPeriod", "RevhubCustomer", "RevhubStep", "RevhubReconStatus"} {
			args = append(args, "--search-attribute", sa+"=Keyword")
		}
		srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
			ExistingPath: path,
			LogLevel:     "error",
			ExtraArgs:    args,
			Stdout:       logf,
			Stderr:       logf,
		})
		if err != nil {
			initErr = err
			return
		}
		server = srv
		address = srv.FrontendHostPort()
	})
	if initErr != nil {
		t.Fatalf("temporaltest: no Temporal dev server: %v (run scripts/test.sh, which installs the temporal CLI and starts one)", initErr)
	}
	return address
}

// Main runs a package's tests, then stops the dev server this process started, if any, and runs
// cleanups; call it from TestMain in packages that use this helper:
// func TestMain(m *testing.M) { temporaltest.Main(m) }.
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	if server != nil {
		_ = server.Stop()
	}
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

// Client dials the dev server's default namespace and closes the client after the test.
func Client(t testing.TB) client.Client {
	t.Helper()
	addr := Address(t)
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		t.Fatalf("temporaltest: dial %s: %v", addr, err)
	}
	t.Cleanup(c.Close)
	return c
}

// TaskQueue returns a task queue name unique to this test, so parallel tests never share workers.
func TaskQueue(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "test-" + filepath.Base(t.Name()) + "-" + hex.EncodeToString(b)
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
