package recon_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/recon"
)

const run = "close/acme-us/2026-10"

func item(key, amount string, cur money.Currency) recon.Item {
	return recon.Item{Key: key, Amount: decimal.RequireFromString(amount), Currency: cur}
}

// invoicesVsLedger builds a check with a 10.00 USD mismatch on inv_2 and inv_3 missing from the ledger.
func invoicesVsLedger(t *testing.T) recon.Check {
	t.Helper()
	c, err := recon.Match("invoices_vs_ledger", run, "ledger",
		recon.Listing{Name: "invoices", Items: []recon.Item{item("inv_1", "100.00", "USD"), item("inv_2", "250.00", "USD"), item("inv_3", "0.02", "USD"), item("inv_4", "80", "EUR")}},
		recon.Listing{Name: "ledger:accounts_receivable", Items: []recon.Item{item("inv_1", "100.00", "USD"), item("inv_2", "240.00", "USD"), item("inv_4", "80.00", "EUR")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Differences) != 2 {
		t.Fatalf("fixture: %d differences", len(c.Differences))
	}
	return c
}

func greenCheck(t *testing.T, name string) recon.Check {
	t.Helper()
	c, err := recon.Match(name, run, "intake",
		recon.Listing{Name: "crm", Items: []recon.Item{item("opp_1", "1200", "USD")}},
		recon.Listing{Name: "contracts", Items: []recon.Item{item("opp_1", "1200.00", "USD")}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSaveResultIdempotent(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	tol := recon.Tolerance{MaxDifferences: 5, Amounts: map[money.Currency]decimal.Decimal{"USD": decimal.RequireFromString("0.05")}}
	r := recon.NewResult(invoicesVsLedger(t), 1, tol)

	first, err := recon.SaveResult(ctx, d.Pool, r)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || first.CreatedAt.IsZero() || first.Status != recon.StatusBlocked {
		t.Fatalf("saved %+v", first)
	}
	// A retried activity saves the same attempt again: same row, nothing duplicated.
	again, err := recon.SaveResult(ctx, d.Pool, r)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("retry saved another row: %d vs %d", again.ID, first.ID)
	}
	var results, diffs int
	if err := d.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM recon_results), (SELECT count(*) FROM recon_differences)`).Scan(&results, &diffs); err != nil {
		t.Fatal(err)
	}
	if results != 1 || diffs != 2 {
		t.Fatalf("%d results and %d differences stored, want 1 and 2", results, diffs)
	}

	// Same attempt, other content: a conflict, not a silent overwrite.
	changed := recon.NewResult(greenCheck(t, "invoices_vs_ledger"), 1, tol)
	if _, err := recon.SaveResult(ctx, d.Pool, changed); !errors.Is(err, recon.ErrConflict) {
		t.Fatalf("changed content: %v, want ErrConflict", err)
	}
	// The next attempt is a new result, and Latest shows it.
	changed.Attempt = 2
	second, err := recon.SaveResult(ctx, d.Pool, changed)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := recon.Latest(ctx, d.Pool, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 1 || latest[0].ID != second.ID || latest[0].Attempt != 2 || latest[0].Effective() != recon.StatusGreen {
		t.Fatalf("latest = %+v", latest)
	}
}

func TestSaveResultConcurrentRetries(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	r := recon.NewResult(invoicesVsLedger(t), 1, recon.Tolerance{})
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			saved, err := recon.SaveResult(ctx, d.Pool, r)
			ids[i], errs[i] = saved.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("save %d: id %d err %v (first id %d)", i, ids[i], errs[i], ids[0])
		}
	}
}

func TestSaveResultRoundTrip(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	tol := recon.Tolerance{MaxDifferences: 1, Amounts: map[money.Currency]decimal.Decimal{"USD": decimal.RequireFromString("20")}}
	want := recon.NewResult(invoicesVsLedger(t), 1, tol)
	if _, err := recon.SaveResult(ctx, d.Pool, want); err != nil {
		t.Fatal(err)
	}
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(greenCheck(t, "crm_vs_contracts"), 1, recon.Tolerance{})); err != nil {
		t.Fatal(err)
	}
	got, err := recon.LatestCheck(ctx, d.Pool, run, "invoices_vs_ledger")
	if err != nil {
		t.Fatal(err)
	}
	// Everything that went in comes back out (JSON compares decimals by value as written).
	g, _ := json.Marshal(struct {
		C recon.Check
		T recon.Tolerance
		S recon.Status
		B []string
	}{got.Check, got.Tolerance, got.Status, got.Breaches})
	w, _ := json.Marshal(struct {
		C recon.Check
		T recon.Tolerance
		S recon.Status
		B []string
	}{want.Check, want.Tolerance, want.Status, want.Breaches})
	if string(g) != string(w) {
		t.Fatalf("round trip\n got %s\nwant %s", g, w)
	}
	all, err := recon.Latest(ctx, d.Pool, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Check.Name != "invoices_vs_ledger" || all[1].Check.Name != "crm_vs_contracts" {
		t.Fatalf("latest order: %v", names(all))
	}
	if _, err := recon.LatestCheck(ctx, d.Pool, run, "nope"); !errors.Is(err, recon.ErrNotFound) {
		t.Fatalf("unknown check: %v", err)
	}
	if rs, err := recon.Latest(ctx, d.Pool, "close/other/2026-10"); err != nil || len(rs) != 0 {
		t.Fatalf("other run: %v, %v", rs, err)
	}
}

func TestSaveResultRefusesInvalid(t *testing.T) {
	d := dbtest.New(t)
	r := recon.NewResult(invoicesVsLedger(t), 0, recon.Tolerance{MaxDifferences: -1})
	r.Status = recon.StatusGreen
	_, err := recon.SaveResult(context.Background(), d.Pool, r)
	var inv *recon.InvalidError
	if !errors.As(err, &inv) || len(inv.Problems) != 2 {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"attempt: must be at least 1", "tolerance.max_differences: must not be negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestResultsAreAppendOnly(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(invoicesVsLedger(t), 1, recon.Tolerance{})); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE recon_results SET status = 'green'`,
		`DELETE FROM recon_differences`,
		`UPDATE recon_differences SET delta = 0, left_amount = right_amount`,
	} {
		if _, err := d.Pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want append-only refusal", sql, err)
		}
	}
}

func TestApprove(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	// Tolerance: 1 difference and 0.05 USD. inv_2 (10.00) is beyond it; inv_3 (0.02) alone is not.
	tol := recon.Tolerance{MaxDifferences: 1, Amounts: map[money.Currency]decimal.Decimal{"USD": decimal.RequireFromString("0.05")}}
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(invoicesVsLedger(t), 1, tol)); err != nil {
		t.Fatal(err)
	}
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(greenCheck(t, "crm_vs_contracts"), 1, tol)); err != nil {
		t.Fatal(err)
	}
	blocked, err := recon.Blocked(ctx, d.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocked) != 1 || blocked[0].Check.Name != "invoices_vs_ledger" || len(blocked[0].Breaches) == 0 {
		t.Fatalf("blocked = %v", names(blocked))
	}

	approval := recon.Approval{Run: run, Check: "invoices_vs_ledger", DifferenceKey: "inv_2", Actor: "user:cfo@acme.com",
		Reason: "credit memo CM-17 posted manually in the ERP on 2026-11-02"}
	dec, err := recon.Approve(ctx, d.Pool, approval)
	if err != nil {
		t.Fatal(err)
	}
	if dec.ID == 0 || dec.Attempt != 1 || dec.Actor != approval.Actor || dec.At.IsZero() {
		t.Fatalf("decision %+v", dec)
	}
	// Retried signal: same decision, no second audit entry.
	again, err := recon.Approve(ctx, d.Pool, approval)
	if err != nil || again.ID != dec.ID {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	entries, err := audit.List(ctx, d.Pool, recon.Subject(run, "invoices_vs_ledger"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d audit entries, want 1", len(entries))
	}
	e := entries[0]
	var details struct {
		StatusBefore string `json:"status_before"`
		StatusAfter  string `json:"status_after"`
		Key          string `json:"difference_key"`
		Differences  []recon.Difference
	}
	if err := json.Unmarshal(e.Details, &details); err != nil {
		t.Fatal(err)
	}
	if e.Actor != approval.Actor || e.Action != recon.ActionApproveDifference || e.Reason != approval.Reason ||
		details.StatusBefore != "blocked" || details.StatusAfter != "approved" || details.Key != "inv_2" ||
		len(details.Differences) != 1 || !details.Differences[0].Delta.Equal(decimal.RequireFromString("10")) {
		t.Fatalf("audit entry %+v %s", e, e.Details)
	}
	// inv_3's 0.02 is within the tolerance, so the check no longer blocks.
	latest, err := recon.LatestCheck(ctx, d.Pool, run, "invoices_vs_ledger")
	if err != nil {
		t.Fatal(err)
	}
	if latest.Effective() != recon.StatusApproved || len(latest.Decisions) != 1 || latest.Decisions[0].DifferenceKey != "inv_2" {
		t.Fatalf("after approval: %s %+v", latest.Effective(), latest.Decisions)
	}
	if blocked, err := recon.Blocked(ctx, d.Pool); err != nil || len(blocked) != 0 {
		t.Fatalf("blocked after approval: %v, %v", names(blocked), err)
	}

	// Someone else approving the same difference is refused, naming who did it.
	other := approval
	other.Actor = "user:intern@acme.com"
	if _, err := recon.Approve(ctx, d.Pool, other); !errors.Is(err, recon.ErrAlreadyDecided) || !strings.Contains(err.Error(), "user:cfo@acme.com") {
		t.Fatalf("second approver: %v", err)
	}
	// Unknown key, green check, unknown check, missing fields.
	unknown := approval
	unknown.DifferenceKey = "inv_99"
	var inv *recon.InvalidError
	if _, err := recon.Approve(ctx, d.Pool, unknown); !errors.As(err, &inv) || inv.Problems[0].Field != "difference_key" {
		t.Fatalf("unknown key: %v", err)
	}
	green := recon.Approval{Run: run, Check: "crm_vs_contracts", Actor: "a", Reason: "r"}
	if _, err := recon.Approve(ctx, d.Pool, green); !errors.Is(err, recon.ErrNotBlocked) {
		t.Fatalf("green check: %v", err)
	}
	missing := recon.Approval{Run: run, Check: "nope", Actor: "a", Reason: "r"}
	if _, err := recon.Approve(ctx, d.Pool, missing); !errors.Is(err, recon.ErrNotFound) {
		t.Fatalf("unknown check: %v", err)
	}
	if _, err := recon.Approve(ctx, d.Pool, recon.Approval{}); !errors.As(err, &inv) || len(inv.Problems) != 4 {
		t.Fatalf("empty approval: %v", err)
	}
	// Decisions are append-only.
	if _, err := d.Pool.Exec(ctx, `UPDATE recon_decisions SET actor = 'someone else'`); err == nil {
		t.Fatal("a decision was edited")
	}
}

func TestApproveWholeCheckAndReRun(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(invoicesVsLedger(t), 1, recon.Tolerance{})); err != nil {
		t.Fatal(err)
	}
	// Approving one key leaves the other beyond a zero tolerance.
	if _, err := recon.Approve(ctx, d.Pool, recon.Approval{Run: run, Check: "invoices_vs_ledger", DifferenceKey: "inv_3", Actor: "controller", Reason: "rounding"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := recon.Blocked(ctx, d.Pool); len(b) != 1 {
		t.Fatalf("still blocked expected, got %v", names(b))
	}
	if _, err := recon.Approve(ctx, d.Pool, recon.Approval{Run: run, Check: "invoices_vs_ledger", Actor: "controller", Reason: "known timing difference, fixed in November"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := recon.Blocked(ctx, d.Pool); len(b) != 0 {
		t.Fatalf("approved check still blocked: %v", names(b))
	}
	entries, _ := audit.List(ctx, d.Pool, recon.Subject(run, "invoices_vs_ledger"), 10)
	if len(entries) != 2 || entries[0].Action != recon.ActionApproveCheck {
		t.Fatalf("audit %+v", entries)
	}
	// A re-run is a new attempt: approvals of the old attempt do not carry over.
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(invoicesVsLedger(t), 2, recon.Tolerance{})); err != nil {
		t.Fatal(err)
	}
	b, err := recon.Blocked(ctx, d.Pool)
	if err != nil || len(b) != 1 || b[0].Attempt != 2 || len(b[0].Decisions) != 0 {
		t.Fatalf("re-run: %+v, %v", b, err)
	}
}

func names(rs []recon.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Check.Run+"/"+r.Check.Name)
	}
	return out
}

func TestApproveConcurrentRetries(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	if _, err := recon.SaveResult(ctx, d.Pool, recon.NewResult(invoicesVsLedger(t), 1, recon.Tolerance{})); err != nil {
		t.Fatal(err)
	}
	a := recon.Approval{Run: run, Check: "invoices_vs_ledger", Actor: "controller", Reason: "reviewed with AR"}
	var wg sync.WaitGroup
	ids := make([]int64, 6)
	errs := make([]error, 6)
	for i := range ids {
		wg.Go(func() {
			dec, err := recon.Approve(ctx, d.Pool, a)
			ids[i], errs[i] = dec.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("approval %d: id %d err %v (first %d)", i, ids[i], errs[i], ids[0])
		}
	}
	entries, err := audit.List(ctx, d.Pool, recon.Subject(run, "invoices_vs_ledger"), 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("%d audit entries, want 1 (%v)", len(entries), err)
	}
}
