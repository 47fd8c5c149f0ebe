package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/temporaltest"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestDevStackUpAndDown runs `revhub dev` as a user would: it must bring up its own Temporal dev
// server with the Web UI, stripe-mock and the API (ready), and leave no process behind on Ctrl-C.
func TestDevStackUpAndDown(t *testing.T) {
	if _, err := temporaltest.CLIPath(); err != nil {
		t.Fatalf("temporal CLI: %v (scripts/setup.sh installs it)", err)
	}
	d := dbtest.NewEmpty(t)
	bin := revhubBinary(t)
	tport, uiport, apiport, smport := freePort(t), freePort(t), freePort(t), freePort(t)
	sf, ns, pp, st := freePort(t), freePort(t), freePort(t), freePort(t)
	dataDir := t.TempDir()
	cmd := exec.Command(bin, "dev",
		"--data-dir", dataDir,
		"--database-url", d.URL,
		"--temporal-address", fmt.Sprintf("127.0.0.1:%d", tport),
		"--temporal-ui-port", fmt.Sprint(uiport),
		"--listen", fmt.Sprintf("127.0.0.1:%d", apiport),
		"--stripe-mock-port", fmt.Sprint(smport),
		"--salesforce-port", fmt.Sprint(sf), "--netsuite-port", fmt.Sprint(ns), "--paypal-port", fmt.Sprint(pp), "--stripe-port", fmt.Sprint(st),
		"--log-level", "warn")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var printed []string
	deadline := time.After(4 * time.Minute)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				logs, _ := filepath.Glob(filepath.Join(dataDir, "*.log"))
				var tails []string
				for _, l := range logs {
					b, _ := os.ReadFile(l)
					tails = append(tails, l+":\n"+string(b[max(0, len(b)-2000):]))
				}
				t.Fatalf("revhub dev exited early; printed:\n%s\nchild logs:\n%s", strings.Join(printed, "\n"), strings.Join(tails, "\n"))
			}
			printed = append(printed, l)
			if strings.Contains(l, "press Ctrl-C") {
				break wait
			}
		case <-deadline:
			t.Fatalf("revhub dev not up in 4 minutes; printed:\n%s", strings.Join(printed, "\n"))
		}
	}
	out := strings.Join(printed, "\n")
	for _, want := range []string{"Temporal UI", fmt.Sprintf("http://127.0.0.1:%d", uiport), "API", fmt.Sprintf("http://127.0.0.1:%d", apiport), "stripe-mock"} {
		if !strings.Contains(out, want) {
			t.Errorf("dev output lacks %q:\n%s", want, out)
		}
	}
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if code := get(fmt.Sprintf("http://127.0.0.1:%d/", uiport)); code != 200 {
		t.Errorf("Temporal UI: HTTP %d", code)
	}
	if code := get(fmt.Sprintf("http://127.0.0.1:%d/readyz", apiport)); code != 200 {
		t.Errorf("/readyz: HTTP %d", code)
	}
	if code := get(fmt.Sprintf("http://127.0.0.1:%d/", smport)); code == 0 {
		t.Errorf("stripe-mock does not answer")
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, "api-key")); err != nil || !strings.HasPrefix(string(b), "rh_") {
		t.Errorf("dev API key file: %v", err)
	} else if strings.Contains(out, string(b)) {
		t.Errorf("dev printed the API key secret")
	}

	// Ctrl-C: everything stops and nothing is left listening.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("revhub dev exit after Ctrl-C: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("revhub dev did not stop within 60s of Ctrl-C")
	}
	for _, port := range []int{tport, uiport, apiport, smport} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still listening after Ctrl-C", port)
		}
	}
}
