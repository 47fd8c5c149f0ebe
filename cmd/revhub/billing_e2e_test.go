package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/revhub/revhub/activities"
	stfake "github.com/revhub/revhub/connectors/stripe/fake"
	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/devhub"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/payment/gateway"
	"github.com/revhub/revhub/internal/server"
	"github.com/revhub/revhub/internal/temporaltest"
	"github.com/revhub/revhub/workflows"
)

// TestBillingCycleExactlyOnceUnderWorkerCrash: a contract is rated, invoiced and collected through
// Stripe (stripe-mock behind the stateful layer); the worker process is SIGKILLed while the charge
// is in flight and restarted. Exactly one PaymentIntent is created, one payment is recorded, the
// invoice is paid, the ledger holds both entries, and webhooks redelivered three times change nothing.
func TestBillingCycleExactlyOnceUnderWorkerCrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := dbtest.New(t)
	tc := temporaltest.Client(t)
	tq := temporaltest.TaskQueue(t)

	// Usage: 1,234 API calls in October at 0.015.
	seedBilling(ctx, t, d.Pool, billingFixture{ContractID: "ctr_e2e", Customer: "cus_e2e", CustomerName: "E2E Corp",
		Meter: "api_calls", EventType: "api.call", UnitPrice: "0.015", Events: 1234})

	// Stripe: stripe-mock behind the stateful layer; the first charge kills the worker mid-call.
	mock, err := stfake.StartMock(ctx, stfake.MockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Stop() //nolint:errcheck
	layer := stfake.New(stfake.Options{MockURL: mock.URL, WebhookSecret: "whsec_e2e"})
	var w *devhub.WorkerProcess
	var once sync.Once
	killed := make(chan struct{})
	stripeSrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents" {
			once.Do(func() { w.Kill(); close(killed) })
		}
		layer.Handler().ServeHTTP(rw, r)
	}))
	defer stripeSrv.Close()

	w = &devhub.WorkerProcess{Binary: revhubBinary(t),
		Args: []string{"worker", "--database-url", d.URL, "--temporal-address", temporaltest.Address(t), "--task-queue", tq,
			"--stripe-base-url", stripeSrv.URL, "--log-level", "error"},
		Env: []string{"REVHUB_STRIPE_API_KEY=sk_test_e2e", "REVHUB_STRIPE_WEBHOOK_SECRET=whsec_e2e"}}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Kill()

	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.BillingCycleID("ctr_e2e", "2026-10-01"), TaskQueue: tq},
		workflows.BillingCycle, workflows.BillingCycleInput{ContractID: "ctr_e2e", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01", Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-killed:
	case <-ctx.Done():
		t.Fatal("the charge never reached Stripe")
	}
	if err := w.Start(); err != nil { // the restarted worker resolves the interrupted charge by lookup
		t.Fatal(err)
	}
	var cycle workflows.BillingCycleState
	if err := run.Get(ctx, &cycle); err != nil {
		t.Fatalf("billing cycle: %v", err)
	}
	// The first charge runs in the cycle itself; paid, it needs no Collect child.
	if cycle.Payment != workflows.CollectPaid || cycle.Collection != "" {
		t.Fatalf("billing cycle = %+v, want paid by its own first charge", cycle)
	}
	// The recorded history (with a worker crash in it) replays deterministically on this code.
	replayRecorded(t, tc, run.GetID())

	// 100.00 platform + 1,234 x 0.015 = 18.51 -> 118.51, charged exactly once.
	inv, err := invoice.Get(ctx, d.Pool, cycle.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != invoice.StatusPaid || inv.Total.String() != "118.51" || !strings.HasPrefix(inv.Number, "INV-US-") {
		t.Fatalf("invoice %s %s total %s number %s", inv.ID, inv.Status, inv.Total, inv.Number)
	}
	if _, executed := layer.Count(http.MethodPost, "/v1/payment_intents"); executed != 1 {
		t.Fatalf("PaymentIntents created at Stripe: %d, want exactly 1", executed)
	}
	pays, err := payment.ListByInvoice(ctx, d.Pool, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(pays) != 1 || pays[0].Status != "succeeded" || pays[0].Amount.String() != "118.51" {
		t.Fatalf("payments recorded: %+v", pays)
	}
	for _, key := range []string{"invoice:" + inv.ID + ":finalized", "payment:" + activities.LedgerPaymentID(pays[0].IdempotencyKey) + ":captured"} {
		if _, err := ledger.GetEntry(ctx, d.Pool, key); err != nil {
			t.Errorf("ledger entry %s: %v", key, err)
		}
	}

	// Every webhook the layer signed, delivered three times, changes nothing.
	gw, err := gateway.New(gateway.Config{StripeAPIKey: "sk_test_e2e", StripeBaseURL: stripeSrv.URL, StripeWebhookSecret: "whsec_e2e"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewServer(server.Build(d.Pool, tc, nil, server.Options{}, api.Capabilities{
		Payments: api.PaymentDeps{Service: payment.NewService(d.Pool, gw.Registry, nil), Stripe: gw.Stripe},
	}).Handler())
	defer apiSrv.Close()
	evs := layer.Events()
	if len(evs) == 0 {
		t.Fatal("the Stripe layer emitted no webhook event")
	}
	for _, ev := range evs {
		for range 3 {
			if code, body, err := layer.Deliver(ctx, apiSrv.URL+"/v1/webhooks/stripe", ev); err != nil || code != http.StatusOK {
				t.Fatalf("webhook delivery: %d %s %v", code, body, err)
			}
		}
	}
	after, err := payment.ListByInvoice(ctx, d.Pool, inv.ID)
	if err != nil || len(after) != 1 || after[0].Status != "succeeded" {
		t.Fatalf("after webhook redelivery: %+v %v", after, err)
	}
	if inv2, _ := invoice.Get(ctx, d.Pool, inv.ID); !inv2.AmountPaid.Equal(inv.AmountPaid) || inv2.Status != invoice.StatusPaid {
		t.Fatalf("invoice changed by webhooks: %+v", inv2)
	}
}

// historyTag names the workflow code generation whose histories replayRecorded stores: histories
// recorded by earlier generations (invoice.history.json and collect.history.json before the
// local steps, invoice.local-steps.history.json before version 2 of that gate) stay in
// workflows/testdata so that every branch of the version gate keeps being replayed.
const historyTag = "start-attributes"

// replayRecorded fetches each workflow's history from the server and replays it against the
// current workflow code; with REVHUB_UPDATE_HISTORIES=1 it also stores the histories under
// workflows/testdata (as <id prefix>.<historyTag>.history.json) for the replay tests there.
func replayRecorded(t *testing.T, tc client.Client, ids ...string) {
	t.Helper()
	ctx := context.Background()
	rep := worker.NewWorkflowReplayer()
	rep.RegisterWorkflow(workflows.BillingCycle)
	rep.RegisterWorkflow(workflows.Collect)
	for _, id := range ids {
		hist := workflowHistory(ctx, t, tc, id)
		if err := rep.ReplayWorkflowHistory(nil, hist); err != nil {
			t.Errorf("replay %s: %v", id, err)
		}
		if os.Getenv("REVHUB_UPDATE_HISTORIES") == "1" {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.SplitN(id, "/", 2)[0] + "." + historyTag + ".history.json"
			if err := os.WriteFile(filepath.Join("..", "..", "workflows", "testdata", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
