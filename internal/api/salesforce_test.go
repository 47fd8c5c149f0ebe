package api_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/workflows"
)

// signalRecorder is a Temporal client that records SignalWithStartWorkflow calls (the only call the route makes).
type signalRecorder struct {
	client.Client
	mu      sync.Mutex
	signals []string
	fail    error
}

func (s *signalRecorder) SignalWithStartWorkflow(_ context.Context, workflowID, signal string, arg any, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	s.signals = append(s.signals, workflowID+" "+signal+" "+arg.(string)+" "+opts.TaskQueue)
	return nil, nil
}

func TestSalesforceDealNotification(t *testing.T) {
	ctx := context.Background()
	db := dbtest.New(t)
	secret := []byte("shared-secret-for-tests")
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tc := &signalRecorder{}
	ver := &salesforce.Verifier{Secrets: [][]byte{secret}, Replays: intake.NewReplayStore(db.Pool, func() time.Time { return now }), Now: func() time.Time { return now }}
	routes := api.CapabilityRoutes(api.Capabilities{Pool: db.Pool, Temporal: tc, SalesforceVerifier: ver, IntakeTaskQueue: "q1"})
	h := paymentRoute(t, routes, "POST", "/v1/webhooks/salesforce/deal")

	signed := func(ts time.Time, body string) http.Header {
		return http.Header{salesforce.HeaderTimestamp: {strconv.FormatInt(ts.Unix(), 10)}, salesforce.HeaderSignature: {salesforce.Sign(secret, ts, []byte(body))}}
	}
	body := `{"notification_id":"n1","opportunity_ids":["0065g00000starkAAA","0065g00000acme1AAA"]}`
	code, out := callPayment(h, "POST", "/v1/webhooks/salesforce/deal", "application/json", []byte(body), signed(now, body))
	if code != http.StatusAccepted || out["workflow_id"] != workflows.IntakeID() {
		t.Fatalf("signed notification: %d %v", code, out)
	}
	want := []string{"intake/salesforce deal-changed 0065g00000starkAAA q1", "intake/salesforce deal-changed 0065g00000acme1AAA q1"}
	if strings.Join(tc.signals, "|") != strings.Join(want, "|") {
		t.Fatalf("signals = %v", tc.signals)
	}

	refused := map[string]http.Header{
		"replayed": signed(now, body),
		"tampered": signed(now, strings.Replace(body, "stark", "acme1", 1)),
		"stale":    signed(now.Add(-10*time.Minute), body),
		"unsigned": {},
	}
	for name, hdr := range refused {
		code, out := callPayment(h, "POST", "/v1/webhooks/salesforce/deal", "application/json", []byte(body), hdr)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: %d %v, want 401", name, code, out)
		}
		if strings.Contains(out["error"].(map[string]any)["reason"].(string), string(secret)) {
			t.Errorf("%s: the answer shows the secret", name)
		}
	}
	entries, err := audit.List(ctx, db.Pool, api.SubjectSalesforceWebhooks, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(refused) {
		t.Fatalf("audit entries = %d, want %d", len(entries), len(refused))
	}
	if len(tc.signals) != 2 {
		t.Fatalf("a refused notification signalled the intake: %v", tc.signals)
	}

	bad := `{"notification_id":"","opportunity_ids":["001000000000001AAA"]}`
	code, out = callPayment(h, "POST", "/v1/webhooks/salesforce/deal", "application/json", []byte(bad), signed(now, bad))
	e := out["error"].(map[string]any)
	if code != http.StatusBadRequest || len(e["details"].([]any)) != 2 || !strings.Contains(e["reason"].(string), "required") ||
		e["field"] != "notification_id" || e["details"].([]any)[1].(map[string]any)["field"] != "opportunity_ids[0]" {
		t.Fatalf("authentic but malformed: %d %v", code, out)
	}

	tc.fail = errors.New("temporal unavailable")
	again := `{"notification_id":"n2","opportunity_ids":["0065g00000acme1AAA"]}`
	if code, _ := callPayment(h, "POST", "/v1/webhooks/salesforce/deal", "application/json", []byte(again), signed(now, again)); code != http.StatusServiceUnavailable {
		t.Fatalf("Temporal down: %d, want 503 so Salesforce sends again", code)
	}

	off := paymentRoute(t, api.CapabilityRoutes(api.Capabilities{}), "POST", "/v1/webhooks/salesforce/deal")
	if code, _ := callPayment(off, "POST", "/v1/webhooks/salesforce/deal", "application/json", []byte(body), signed(now, body)); code != http.StatusServiceUnavailable {
		t.Fatalf("unconfigured: %d, want 503", code)
	}
}
