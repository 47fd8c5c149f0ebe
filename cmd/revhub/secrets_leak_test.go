package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	ppfake "github.com/revhub/revhub/connectors/paypal/fake"
	"github.com/revhub/revhub/connectors/salesforce"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/codec"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/temporaltest"
	"github.com/revhub/revhub/workflows"
)

// leakCodecKey is the payload codec key of the leak test: 32 recognisable bytes.
var leakCodecKey = []byte("LEAKCANARY-codec-key-0123456789!")

// leakSecrets are every configured secret of the leak test, by environment variable.
var leakSecrets = map[string]string{
	"REVHUB_STRIPE_API_KEY":           "sk_test_LEAKCANARYstripeApiKey0123456789",
	"REVHUB_STRIPE_WEBHOOK_SECRET":    "whsec_LEAKCANARYstripeWebhook0123456789",
	"REVHUB_PAYPAL_SECRET":            "LEAKCANARY-paypal-client-secret-0123",
	"REVHUB_SALESFORCE_CLIENT_SECRET": "LEAKCANARY-salesforce-client-secret-01",
	"REVHUB_SALESFORCE_NOTIFY_SECRET": "LEAKCANARY-salesforce-notify-secret-01",
	"REVHUB_NETSUITE_CONSUMER_SECRET": "LEAKCANARY-netsuite-consumer-secret-01",
	"REVHUB_NETSUITE_TOKEN_SECRET":    "LEAKCANARY-netsuite-token-secret-0123",
	"REVHUB_CODEC_KEYS":               "leak:" + base64.StdEncoding.EncodeToString(leakCodecKey),
}

// leakForms are the ways a secret could show: as is, in base64 (standard, URL, unpadded) and hex.
func leakForms(secret []byte) []string {
	out := []string{string(secret), base64.StdEncoding.EncodeToString(secret), base64.URLEncoding.EncodeToString(secret),
		base64.RawStdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret), hex.EncodeToString(secret)}
	return out
}

// findLeaks names every secret form found in text.
func findLeaks(text string, secrets map[string][]byte) []string {
	var found []string
	for name, s := range secrets {
		for _, form := range leakForms(s) {
			if strings.Contains(text, form) {
				found = append(found, fmt.Sprintf("%s (as %q)", name, form))
			}
		}
	}
	return found
}

func TestFindLeaksFindsEveryForm(t *testing.T) {
	s := map[string][]byte{"X": []byte("hunter2-secret")}
	for _, form := range leakForms(s["X"]) {
		if len(findLeaks("log line ... "+form+" ...", s)) == 0 {
			t.Errorf("form %q not found", form)
		}
	}
	if got := findLeaks("nothing here", s); len(got) != 0 {
		t.Errorf("false positive: %v", got)
	}
}

// syncBuffer collects a child process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretInLogsOrHistories runs `revhub api` and `revhub worker` as production does, with every
// secret set to a recognisable value and debug logging, drives them (health, readiness, wrong keys,
// forged webhooks of each provider, a real API key, a billing cycle charged through Stripe), and
// fails if any secret, in clear, base64 or hex, appears in their output or in a workflow history.
func TestNoSecretInLogsOrHistories(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := dbtest.New(t)
	tq := temporaltest.TaskQueue(t)
	contractID := fmt.Sprintf("ctr_leak_%d", time.Now().UnixNano())

	// Data for one billing cycle: a meter, usage and a contract paid through Stripe.
	seedBilling(ctx, t, d.Pool, billingFixture{ContractID: contractID, Customer: "cus_leak", CustomerName: "Leak Canary Corp",
		Meter: "leak_calls", EventType: "leak.call", UnitPrice: "0.5", Events: 10})
	admin, err := apikey.Create(ctx, d.Pool, "leak-admin", []apikey.Scope{"admin"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The outside systems: Stripe (stripe-mock behind the stateful layer) and PayPal, holding the same secrets.
	mock, err := stfake.StartMock(ctx, stfake.MockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Stop() //nolint:errcheck
	stripeSrv := httptest.NewServer(stfake.New(stfake.Options{MockURL: mock.URL, WebhookSecret: leakSecrets["REVHUB_STRIPE_WEBHOOK_SECRET"]}).Handler())
	defer stripeSrv.Close()
	pp := ppfake.New(ppfake.Options{ClientID: "leak-client", Secret: leakSecrets["REVHUB_PAYPAL_SECRET"], WebhookID: "WH-LEAK"})
	ppSrv := httptest.NewServer(pp.Handler())
	defer ppSrv.Close()

	bin := revhubBinary(t)
	env := os.Environ()
	for k, v := range leakSecrets {
		env = append(env, k+"="+v)
	}
	common := []string{"--database-url", d.URL, "--temporal-address", temporaltest.Address(t), "--task-queue", tq,
		"--stripe-base-url", stripeSrv.URL, "--paypal-base-url", ppSrv.URL, "--paypal-client-id", "leak-client", "--paypal-webhook-id", "WH-LEAK",
		"--log-level", "debug"}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var output syncBuffer
	start := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = &output, &output
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	apiProc := start(append([]string{"api", "--listen", fmt.Sprintf("127.0.0.1:%d", port)}, common...)...)
	defer apiProc.Process.Kill() //nolint:errcheck
	workerProc := start(append([]string{"worker"}, common...)...)
	defer workerProc.Process.Kill() //nolint:errcheck

	send := func(method, path string, body []byte, h http.Header) int {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range h {
			req.Header[k] = vs
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		output.Write(fmt.Appendf(nil, "HTTP %s %s -> %d %s\n", method, path, resp.StatusCode, b)) // answers are scanned too
		return resp.StatusCode
	}
	ready := time.Now().Add(time.Minute)
	for send("GET", "/readyz", nil, nil) != 200 {
		if time.Now().After(ready) {
			t.Fatalf("API not ready in a minute:\n%s", output.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	bearer := func(k string) http.Header { return http.Header{"Authorization": {"Bearer " + k}} }
	wrongKey := admin.Secret[:len(admin.Secret)-6] + "aaaaaa"
	checks := []struct {
		name   string
		status int
		code   int
	}{
		{"healthz", 200, send("GET", "/healthz", nil, nil)},
		{"whoami", 200, send("GET", "/v1/whoami", nil, bearer(admin.Secret))},
		{"wrong key", 401, send("GET", "/v1/whoami", nil, bearer(wrongKey))},
		{"wrong key in X-API-Key", 401, send("GET", "/v1/audit", nil, http.Header{"X-Api-Key": {wrongKey}})},
		{"stripe secret as API key", 401, send("GET", "/v1/whoami", nil, bearer(leakSecrets["REVHUB_STRIPE_API_KEY"]))},
		{"audit", 200, send("GET", "/v1/audit", nil, bearer(admin.Secret))},
		{"stripe forged", 400, send("POST", "/v1/webhooks/stripe", []byte(`{"id":"evt_x","object":"event"}`),
			http.Header{"Stripe-Signature": {stfake.Sign([]byte(`{"id":"evt_x"}`), "whsec_attacker", time.Now())}})},
		{"paypal forged", 400, send("POST", "/v1/webhooks/paypal", []byte(`{"id":"WH-X","event_type":"PAYMENT.CAPTURE.COMPLETED"}`),
			http.Header{"Paypal-Transmission-Id": {"x"}, "Paypal-Transmission-Time": {time.Now().UTC().Format(time.RFC3339)},
				"Paypal-Transmission-Sig": {"Zm9yZ2Vk"}, "Paypal-Cert-Url": {ppfake.CertURL}, "Paypal-Auth-Algo": {ppfake.AuthAlgo}})},
		{"salesforce forged", 401, send("POST", "/v1/webhooks/salesforce/deal", []byte(`{"notification_id":"n","opportunity_ids":["0065g00000starkAAA"]}`),
			http.Header{salesforce.HeaderTimestamp: {strconv.FormatInt(time.Now().Unix(), 10)},
				salesforce.HeaderSignature: {salesforce.Sign([]byte("attacker"), time.Now(), []byte("{}"))}})},
	}
	for _, c := range checks {
		if c.code != c.status {
			t.Errorf("%s: HTTP %d, want %d", c.name, c.code, c.status)
		}
	}

	// A billing cycle through the worker: rated, invoiced and charged at Stripe with the API key.
	cdc, err := codec.Load(func(k string) string { return leakSecrets[k] })
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(codec.ClientOptions(client.Options{HostPort: temporaltest.Address(t), Namespace: "default"}, cdc))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BillingCycleID(contractID, "2026-10-01"), TaskQueue: tq},
		workflows.BillingCycle, workflows.BillingCycleInput{ContractID: contractID, PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01", Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var cycle workflows.BillingCycleState
	if err := run.Get(ctx, &cycle); err != nil {
		t.Fatalf("billing cycle: %v\n%s", err, output.String())
	}
	ids := []string{run.GetID()}
	switch {
	case cycle.InvoiceID == "":
		t.Fatalf("billing cycle made no invoice: %+v", cycle)
	case cycle.Collection != "":
		ids = append(ids, cycle.Collection)
		var col workflows.CollectState
		if err := tc.GetWorkflow(ctx, cycle.Collection, "").Get(ctx, &col); err != nil {
			t.Fatalf("collection: %v", err)
		}
		if col.Status != workflows.CollectPaid {
			t.Fatalf("collection = %+v: the Stripe charge with the configured key did not go through", col)
		}
	case cycle.Payment != workflows.CollectPaid:
		t.Fatalf("billing cycle = %+v: the Stripe charge with the configured key did not go through", cycle)
	}

	// Stop both processes as an operator would, then read everything they wrote.
	for _, p := range []*exec.Cmd{apiProc, workerProc} {
		_ = p.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = p.Process.Kill()
		}
	}
	secrets := map[string][]byte{"API key": []byte(admin.Secret), "API key secret part": []byte(admin.Secret[len("rh_")+9:]), "codec key bytes": leakCodecKey}
	for k, v := range leakSecrets {
		secrets[k] = []byte(v)
	}
	logs := output.String()
	for _, want := range []string{"level=DEBUG", "api listening", "worker running"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the captured output lacks %q: the run did not log as expected", want)
		}
	}
	if leaks := findLeaks(logs, secrets); len(leaks) > 0 {
		t.Errorf("secrets in the logs of api and worker: %s", strings.Join(leaks, "; "))
	}

	// The workflow histories, read raw (no codec), hold no secret and no clear customer data.
	raw := temporaltest.Client(t)
	for _, id := range ids {
		events := workflowHistory(ctx, t, raw, id).Events
		var hist strings.Builder
		n := len(events)
		for _, ev := range events {
			b, err := protojson.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			hist.Write(b)
			hist.WriteString("\n")
		}
		h := hist.String()
		if n < 5 || !strings.Contains(h, base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))) {
			t.Errorf("history of %s: %d events, payloads not encrypted", id, n)
		}
		if leaks := findLeaks(h, secrets); len(leaks) > 0 {
			t.Errorf("secrets in the history of %s: %s", id, strings.Join(leaks, "; "))
		}
		if strings.Contains(h, "Leak Canary Corp") || strings.Contains(h, base64.StdEncoding.EncodeToString([]byte("Leak Canary Corp"))) {
			t.Errorf("history of %s shows the customer name in clear", id)
		}
	}
	if t.Failed() {
		t.Logf("captured output:\n%s", logs)
	}
}
