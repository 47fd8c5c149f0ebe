package workflows_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/revhub/revhub/activities"
	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/invoice"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/internal/temporaltest"
	"github.com/revhub/revhub/workflows"
)

// closeHistoryFile is a recorded history of the close (blocked, then approved), replayed by
// TestMonthEndCloseReplaysRecordedHistory; REVHUB_RECORD_CLOSE_HISTORY=1 rewrites it.
const closeHistoryFile = "testdata/month_end_close_history.json"

// TestMonthEndCloseOnTemporal runs a close on a real Temporal server and PostgreSQL: the due cycle
// is billed by a real BillingCycle child, a one-off invoice booked outside revhub's ledger blocks
// invoices_vs_ledger until the approve signal, revenue is recognized, the ledger period closed; then
// the recorded history replays deterministically.
func TestMonthEndCloseOnTemporal(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	ch := ledger.DefaultChart()
	if err := ledger.SyncChart(ctx, d.Pool, ch); err != nil {
		t.Fatal(err)
	}
	entity := fmt.Sprintf("it%d", time.Now().UnixNano()) // unique on the shared Temporal server
	v, err := contract.ParseVersion([]byte(`
contract_id: ctr_close_it
version: 1
status: active
customer: {external_id: cus_it, name: Close IT}
currency: USD
billing_entity: `+entity+`
payment_provider: bank
start: 2026-01-01
end: 2027-01-01
billing: {cadence: monthly, timing: in_advance}
components:
  - {id: platform, product: platform, model: flat, price: {amount: "1000.00"}}
`), contract.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contract.Create(ctx, d.Pool, v); err != nil {
		t.Fatal(err)
	}
	mar15, _ := invoice.ParseDate("2026-03-15")
	manual, err := invoice.CreateDraft(ctx, d.Pool, invoice.Draft{Key: "manual:" + entity, Kind: invoice.KindOneOff, CustomerID: "cus_it",
		BillingEntity: entity, Currency: "USD", PeriodStart: mar15, PeriodEnd: mar15.AddDays(1), PaymentTermsDays: 30,
		Lines: []invoice.Line{{Kind: "services", Product: "services", Description: "Onboarding", Quantity: decimal.NewFromInt(1), Amount: decimal.RequireFromString("250.00")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invoice.Finalize(ctx, d.Pool, manual.ID, mar15.Time()); err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.DiscardHandler)
	set := activities.New(activities.Deps{Pool: d.Pool, Chart: ch, Log: log, Payments: payment.NewService(d.Pool, provider.NewRegistry(), log)})
	tc, queue := temporaltest.Client(t), temporaltest.TaskQueue(t)
	w := worker.New(tc, queue, worker.Options{})
	for _, wf := range []any{workflows.MonthEndClose, workflows.BillingCycle, workflows.Collect, workflows.RecognizeRevenue, workflows.ScheduledClose} {
		w.RegisterWorkflow(wf)
	}
	w.RegisterActivity(set.Close)
	w.RegisterActivity(set.Billing)
	w.RegisterActivity(set.Revenue)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(w.Stop) })

	in := workflows.CloseInput{Entity: entity, Period: "2026-03", NoCollect: true, Skip: []string{workflows.CloseStepIntake, workflows.CloseStepERP}}
	run, err := workflows.StartClose(ctx, tc, queue, in)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetID() != "close/"+entity+"/2026-03" {
		t.Fatalf("id %s", run.GetID())
	}
	// Starting it again while it runs returns the running close.
	again, err := workflows.StartClose(ctx, tc, queue, in)
	if err != nil || again.GetRunID() != run.GetRunID() {
		t.Fatalf("second start: %v %s vs %s", err, again.GetRunID(), run.GetRunID())
	}

	var blocked workflows.CloseState
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := workflows.CloseStatus(ctx, tc, entity, "2026-03")
		if err == nil && st.Recon == workflows.CloseReconBlocked {
			blocked = st
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the close never blocked: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b := blocked.Steps[2]
	if b.Name != workflows.CloseStepBilling || b.State != workflows.StepBlocked || b.Done != 1 || len(b.Checks) != 1 ||
		b.Checks[0].Differences != 1 || !strings.HasPrefix(b.Checks[0].Exceptions[0], manual.ID+": on invoices (250 USD)") {
		t.Fatalf("blocked billing step: %+v", b)
	}
	// The search attributes make "all closes blocked on reconciliation" one query.
	waitForVisibility(t, tc, fmt.Sprintf(`RevhubReconStatus = "blocked" AND RevhubEntity = %q`, entity), run.GetID())

	if err := workflows.SignalClose(ctx, tc, entity, "2026-03", workflows.SignalCloseApprove, workflows.CloseSignal{Actor: "user:cfo@acme.test", Check: recon.CheckInvoicesVsLedger}); err == nil ||
		!strings.Contains(err.Error(), "reason: required") {
		t.Fatalf("a decision without a reason was sent: %v", err)
	}
	if err := workflows.SignalClose(ctx, tc, entity, "2026-03", workflows.SignalCloseApprove, workflows.CloseSignal{
		Actor: "user:cfo@acme.test", Reason: "onboarding booked in the ERP by hand", Check: recon.CheckInvoicesVsLedger, DifferenceKey: manual.ID}); err != nil {
		t.Fatal(err)
	}
	var st workflows.CloseState
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := run.Get(wctx, &st); err != nil {
		t.Fatal(err)
	}
	if !st.Done || st.Recon != workflows.CloseReconApproved {
		t.Fatalf("close: %+v", st)
	}
	for _, s := range st.Steps {
		if s.State != workflows.StepDone && s.State != workflows.StepSkipped {
			t.Fatalf("step %s: %s %s", s.Name, s.State, s.Detail)
		}
	}
	// Hand-computed: one 1,000.00 cycle invoice billed in advance, 250.00 approved off-ledger.
	inv, err := invoice.GetByKey(ctx, d.Pool, invoice.CycleKey("ctr_close_it", invoice.DateOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), invoice.DateOf(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))))
	if err != nil || !inv.Total.Equal(decimal.RequireFromString("1000")) || inv.Status != invoice.StatusFinalized {
		t.Fatalf("cycle invoice: %+v %v", inv, err)
	}
	results, err := recon.Latest(ctx, d.Pool, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]recon.Status{}
	for _, r := range results {
		got[r.Check.Name] = r.Effective()
	}
	if got[recon.CheckInvoicesVsLedger] != recon.StatusApproved || got[recon.CheckPaymentsVsProvider] != recon.StatusGreen ||
		got[recon.CheckBillingsVsDeferredRevenue] != recon.StatusGreen || got[recon.CheckUsageVsRated] != recon.StatusGreen {
		t.Fatalf("stored results: %v", got)
	}
	periods, err := ledger.Periods(ctx, d.Pool, entity)
	closed := map[string]bool{}
	for _, p := range periods {
		closed[p.Period] = p.Status == "closed"
	}
	if err != nil || !closed["2026-03"] || closed["2026-04"] {
		t.Fatalf("ledger periods: %+v %v", periods, err)
	}
	trail, err := audit.List(ctx, d.Pool, recon.Subject(run.GetID(), recon.CheckInvoicesVsLedger), 10)
	if err != nil || len(trail) != 1 || trail[0].Actor != "user:cfo@acme.test" || trail[0].Reason != "onboarding booked in the ERP by hand" {
		t.Fatalf("audit trail: %+v %v", trail, err)
	}

	// Started again, the close checks afresh (attempt 2), bills nothing twice and posts nothing twice.
	rerun, err := workflows.StartClose(ctx, tc, queue, in)
	if err != nil || rerun.GetRunID() == run.GetRunID() {
		t.Fatalf("re-run: %v", err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		st, err := workflows.CloseStatus(ctx, tc, entity, "2026-03")
		if err == nil && st.Recon == workflows.CloseReconBlocked {
			if c := st.Steps[2].Checks[0]; c.Attempt != 2 || c.Differences != 1 {
				t.Fatalf("re-run check: %+v", c)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the re-run never blocked: %+v %v", st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := workflows.SignalClose(ctx, tc, entity, "2026-03", workflows.SignalCloseApprove, workflows.CloseSignal{
		Actor: "user:cfo@acme.test", Reason: "same onboarding invoice, still booked by hand", Check: recon.CheckInvoicesVsLedger}); err != nil {
		t.Fatal(err)
	}
	if err := rerun.Get(wctx, &st); err != nil || !st.Done {
		t.Fatalf("re-run: %+v %v", st, err)
	}
	invs, _, err := invoice.List(ctx, d.Pool, invoice.Filter{BillingEntity: entity})
	if err != nil || len(invs) != 2 {
		t.Fatalf("invoices after the re-run: %d %v", len(invs), err)
	}
	entries, err := ledger.Entries(ctx, d.Pool, ledger.BalanceQuery{Entity: entity})
	if err != nil {
		t.Fatal(err)
	}
	finalized := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Key, "invoice:") {
			finalized++
		}
	}
	if finalized != 1 {
		t.Fatalf("%d invoice entries in the ledger, want 1 (the cycle invoice)", finalized)
	}

	// Replay the recorded history: the workflow code is deterministic.
	hist := history(t, tc, run.GetID(), run.GetRunID())
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.MonthEndClose)
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if os.Getenv("REVHUB_RECORD_CLOSE_HISTORY") == "1" {
		b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(closeHistoryFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMonthEndCloseReplaysRecordedHistory replays a stored history of a blocked-then-approved
// close: a change to the workflow that would break running closes fails here.
func TestMonthEndCloseReplaysRecordedHistory(t *testing.T) {
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.MonthEndClose)
	if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, closeHistoryFile); err != nil {
		t.Fatalf("replay %s: %v", closeHistoryFile, err)
	}
}

func TestEnsureCloseScheduleIsIdempotent(t *testing.T) {
	ctx := context.Background()
	tc, queue := temporaltest.Client(t), temporaltest.TaskQueue(t)
	entity := fmt.Sprintf("sched%d", time.Now().UnixNano())
	in := workflows.ScheduledCloseInput{Entity: entity, Skip: []string{workflows.CloseStepERP}}
	for range 2 {
		if err := workflows.EnsureCloseSchedule(ctx, tc, queue, in); err != nil {
			t.Fatal(err)
		}
	}
	h := tc.ScheduleClient().GetHandle(ctx, workflows.CloseScheduleID(entity))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cal := desc.Schedule.Spec.Calendars
	if len(cal) != 1 || cal[0].DayOfMonth[0].Start != 1 || cal[0].Hour[0].Start != 2 || cal[0].Minute[0].Start != 0 {
		t.Fatalf("calendar %+v", cal)
	}
	next := desc.Info.NextActionTimes
	if len(next) == 0 || next[0].UTC().Day() != 1 || next[0].UTC().Hour() != 2 {
		t.Fatalf("next runs %v", next)
	}
	// A changed grace window moves the schedule.
	in.Grace = 6 * time.Hour
	if err := workflows.EnsureCloseSchedule(ctx, tc, queue, in); err != nil {
		t.Fatal(err)
	}
	desc, err = h.Describe(ctx)
	if err != nil || desc.Schedule.Spec.Calendars[0].Hour[0].Start != 6 {
		t.Fatalf("after update: %+v %v", desc, err)
	}
}

func waitForVisibility(t *testing.T, tc client.Client, query, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err == nil {
			for _, e := range resp.Executions {
				if e.Execution.WorkflowId == id {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not found by %s: %v", id, query, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func history(t *testing.T, tc client.Client, id, runID string) *historypb.History {
	t.Helper()
	it := tc.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}
