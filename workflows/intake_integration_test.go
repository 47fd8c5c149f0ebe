package workflows_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/salesforce"
	sffake "github.com/revhub/revhub/connectors/salesforce/fake"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/internal/temporaltest"
	"github.com/revhub/revhub/workflows"
)

const (
	starkOpp      = "0065g00000starkAAA"
	starkPlatform = "00k5g00000l0016AAA"
	starkAPI      = "00k5g00000l0017AAA"
	pushSecret    = "integration-push-secret"
)

// intakeStack is PostgreSQL, Temporal, the demo Salesforce org over HTTP, the API's push route and a worker.
type intakeStack struct {
	db     *dbtest.DB
	fake   *sffake.Server
	fakeHS *httptest.Server
	tc     client.Client
	queue  string
	push   http.Handler
	sent   int // deliveries signed so far; each is signed one second later, as a sender's retry would be
}

func newIntakeStack(t *testing.T) *intakeStack {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	f, err := sffake.NewDemo(sffake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(f.Handler())
	t.Cleanup(hs.Close)
	sf, err := salesforce.New(salesforce.Config{LoginURL: hs.URL, ClientID: f.ClientID(), ClientSecret: f.ClientSecret(), MultiCurrency: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s := &intakeStack{db: dbtest.New(t), fake: f, fakeHS: hs, tc: temporaltest.Client(t), queue: temporaltest.TaskQueue(t)}
	// The intake id is fixed (one per namespace): clear any run a previous test left.
	stop := func() { _ = s.tc.TerminateWorkflow(context.Background(), workflows.IntakeID(), "", "test cleanup") }
	stop()
	t.Cleanup(stop)

	w := worker.New(s.tc, s.queue, worker.Options{})
	w.RegisterWorkflow(workflows.SalesforceIntake)
	w.RegisterActivity(activities.New(activities.Deps{Pool: s.db.Pool, Log: quiet, Salesforce: sf}).Intake)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(w.Stop) })

	ver := &salesforce.Verifier{Secrets: [][]byte{[]byte(pushSecret)}, Replays: intake.NewReplayStore(s.db.Pool, nil)}
	mux := http.NewServeMux()
	for _, r := range api.CapabilityRoutes(api.Capabilities{Pool: s.db.Pool, Temporal: s.tc, Log: quiet, SalesforceVerifier: ver, IntakeTaskQueue: s.queue}) {
		if r.Path == "/v1/webhooks/salesforce/deal" {
			mux.Handle(r.Method+" "+r.Path, r.Handler)
		}
	}
	s.push = mux
	return s
}

// control calls the fake org's control API as a person or a demo script would.
func (s *intakeStack) control(t *testing.T, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.fakeHS.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

// notify sends a signed push notification (signed now, so each call is a new delivery) and returns the status.
func (s *intakeStack) notify(t *testing.T, id, notification string, header http.Header) (int, http.Header) {
	t.Helper()
	body := fmt.Sprintf(`{"notification_id":%q,"opportunity_ids":[%q]}`, notification, id)
	if header == nil {
		ts := time.Now().Add(time.Duration(s.sent) * time.Second)
		s.sent++
		header = http.Header{salesforce.HeaderTimestamp: {strconv.FormatInt(ts.Unix(), 10)},
			salesforce.HeaderSignature: {salesforce.Sign([]byte(pushSecret), ts, []byte(body))}}
	}
	req := httptest.NewRequest("POST", "/v1/webhooks/salesforce/deal", bytes.NewReader([]byte(body)))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.push.ServeHTTP(rec, req)
	return rec.Code, header
}

func (s *intakeStack) status(t *testing.T) workflows.IntakeStatus {
	t.Helper()
	v, err := s.tc.QueryWorkflow(context.Background(), workflows.IntakeID(), "", workflows.QueryStatus)
	if err != nil {
		t.Fatalf("query intake status: %v", err)
	}
	var st workflows.IntakeStatus
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// eventually polls cond until it holds or the deadline passes (a wait for asynchronous work, not a speed goal).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *intakeStack) patches(opp string) int {
	n := 0
	for _, r := range s.fake.Requests() {
		if r.Method == "PATCH" && strings.HasSuffix(r.Path, "/sobjects/Opportunity/"+opp) && r.Status == http.StatusNoContent {
			n++
		}
	}
	return n
}

func (s *intakeStack) contract(t *testing.T, id string) (contract.Contract, bool) {
	t.Helper()
	c, err := contract.Get(context.Background(), s.db.Pool, id)
	if err != nil {
		return contract.Contract{}, false
	}
	return c, true
}

// TestSalesforceIntakeEndToEnd: closing an Opportunity and pushing a notification leads to an active contract in
// PostgreSQL and a write-back in Salesforce; closing it again and redelivering the notification changes nothing;
// an edit after activation, found by polling, becomes version 2 effective on the edit's date.
func TestSalesforceIntakeEndToEnd(t *testing.T) {
	ctx := context.Background()
	s := newIntakeStack(t)
	// Stark's contract starts on the first day of last month, so today is always inside its term.
	start := time.Now().UTC().AddDate(0, -1, 0)
	first := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	s.control(t, "PATCH", "/__fake/records/Opportunity/"+starkOpp, `{"Contract_Start_Date__c":"`+first+`"}`)
	for _, li := range []string{starkPlatform, starkAPI} {
		s.control(t, "PATCH", "/__fake/records/OpportunityLineItem/"+li, `{"ServiceDate":"`+first+`"}`)
	}

	// Phase 1, push: the intake polls once (the demo's won deals), then only a notification can bring Stark in.
	runID, err := workflows.EnsureIntake(ctx, s.tc, s.queue, workflows.IntakeInput{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := workflows.EnsureIntake(ctx, s.tc, s.queue, workflows.IntakeInput{PollInterval: time.Second}); err != nil || again != runID {
		t.Fatalf("ensuring a running intake started another run (%s, %s): %v", runID, again, err)
	}
	eventually(t, "the first poll and reconciliation", func() bool {
		st := s.status(t)
		return st.LastReconciliation != nil && st.Ingested == 5 && st.Rejected == 1
	})
	s.control(t, "POST", "/__fake/opportunities/"+starkOpp+"/close-won", "")
	code, firstDelivery := s.notify(t, starkOpp, "n1", nil)
	if code != http.StatusAccepted {
		t.Fatalf("notification: %d", code)
	}
	ctrID := "ctr_sf_" + starkOpp
	eventually(t, "Stark's contract and write-back", func() bool {
		rec, _ := s.fake.Record("Opportunity", starkOpp)
		return s.patches(starkOpp) == 1 && rec[salesforce.FieldRevhubStatus] == "Active" && rec[salesforce.FieldRevhubContractID] == ctrID
	})
	c, ok := s.contract(t, ctrID)
	if !ok || len(c.Versions) != 1 || c.Versions[0].Status != contract.StatusActive || c.Versions[0].Start.String() != first {
		t.Fatalf("Stark's contract = %+v", c)
	}
	if st := s.status(t); st.Polls != 1 || st.Signals != 1 || st.Ingested != 6 {
		t.Fatalf("the push, not a poll, brought Stark in: status %+v", st)
	}

	// Closing it again and redelivering the notification (a new delivery; an identical one is a replay) change nothing.
	s.control(t, "POST", "/__fake/opportunities/"+starkOpp+"/close-won", "")
	if code, _ := s.notify(t, starkOpp, "n1", firstDelivery); code != http.StatusUnauthorized {
		t.Fatalf("a replayed delivery: %d, want 401", code)
	}
	if code, _ := s.notify(t, starkOpp, "n1", nil); code != http.StatusAccepted {
		t.Fatalf("redelivery: %d", code)
	}
	eventually(t, "the redelivered notification to be handled", func() bool {
		st := s.status(t)
		return st.Signals == 2 && st.Unchanged >= 1
	})
	if c, _ := s.contract(t, ctrID); len(c.Versions) != 1 {
		t.Fatalf("versions after redelivery = %d, want 1", len(c.Versions))
	}
	if n := s.patches(starkOpp); n != 1 {
		t.Fatalf("write-backs after redelivery = %d, want 1 (the Opportunity already shows the values)", n)
	}

	// Phase 2, polling: a new run of the intake on a short interval finds an edit made after activation.
	if err := s.tc.TerminateWorkflow(ctx, workflows.IntakeID(), "", "switch to fast polling"); err != nil {
		t.Fatal(err)
	}
	carried := s.fake.Requests()[0].Time // any time before the edit
	_, err = s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.IntakeID(), TaskQueue: s.queue},
		workflows.SalesforceIntake, workflows.IntakeInput{PollInterval: 500 * time.Millisecond, Watermark: carried})
	if err != nil {
		t.Fatal(err)
	}
	s.control(t, "PATCH", "/__fake/records/OpportunityLineItem/"+starkPlatform, `{"UnitPrice":24000}`)
	edited, _ := s.fake.Record("Opportunity", starkOpp)
	stamp, err := time.Parse("2006-01-02T15:04:05.000-0700", fmt.Sprint(edited["SystemModstamp"]))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "version 2", func() bool {
		c, _ := s.contract(t, ctrID)
		return len(c.Versions) == 2
	})
	c, _ = s.contract(t, ctrID)
	v2 := c.Versions[1]
	if v2.Version != 2 || v2.EffectiveFrom != contract.DateOf(stamp) || v2.Status != contract.StatusActive {
		t.Fatalf("version 2 = v%d effective %s (%s), want effective %s", v2.Version, v2.EffectiveFrom, v2.Status, contract.DateOf(stamp))
	}
	platform, _ := v2.Component("platform")
	if platform.Price.Amount.String() != "2000" {
		t.Fatalf("version 2 platform fee = %s, want 2000 a month", platform.Price.Amount)
	}
	eventually(t, "a reconciliation that sees the amended contract", func() bool {
		st := s.status(t)
		r := st.LastReconciliation
		return st.Amended == 1 && r != nil && r.Summary.Deals == 7 && r.Summary.Matched == 6 && r.Summary.Rejected == 1
	})

	// The first run's history replays on the current code (determinism).
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.SalesforceIntake)
	if err := replayer.ReplayWorkflowExecution(ctx, s.tc.WorkflowService(), nil, "default", workflow.Execution{ID: workflows.IntakeID(), RunID: runID}); err != nil {
		t.Fatalf("replay: %v", err)
	}
}
