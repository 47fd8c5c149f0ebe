package invoicerun

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/temporaltest"
)

func TestMain(m *testing.M) { temporaltest.Main(m) }

// TestExpectedTotalByHand checks the generator's arithmetic against a total worked out by hand.
func TestExpectedTotalByHand(t *testing.T) {
	// 99.00 + 1,234 x 0.0015 = 1.851 -> 1.85 + tokens 1,250,000: 100,000 x 0.00002 = 2 +
	// 900,000 x 0.000015 = 13.5 + 250,000 x 0.00001 = 2.5 -> 18.00; total 118.85.
	if got := expectedTotal(decimal.RequireFromString("99.00"), 1234, 1250000, "USD"); got.String() != "118.85" {
		t.Fatalf("expected total = %s, want 118.85", got)
	}
	// 0.0015 x 3 = 0.0045 rounds down, x 5 = 0.0075 rounds half away from zero to 0.01.
	if got := expectedTotal(decimal.RequireFromString("49.00"), 3, 0, "EUR"); got.String() != "49" {
		t.Fatalf("expected total = %s, want 49", got)
	}
	if got := expectedTotal(decimal.RequireFromString("49.00"), 5, 0, "EUR"); got.String() != "49.01" {
		t.Fatalf("expected total = %s, want 49.01", got)
	}
}

// TestGeneratorMix checks the generated contracts are valid, deterministic and mixed.
func TestGeneratorMix(t *testing.T) {
	g := &Generator{Run: "t1", PeriodStart: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
	kinds := map[string]int{}
	for i := range 200 {
		p := g.Contract(i)
		if err := p.Version.Validate(); err != nil {
			t.Fatalf("contract %d: %v", i, err)
		}
		if again := g.Contract(i); !again.Expected.Equal(p.Expected) || len(again.Events) != len(p.Events) {
			t.Fatalf("contract %d is not deterministic", i)
		}
		for _, e := range p.Events {
			if e.Time.Before(g.PeriodStart) || !e.Time.Before(g.PeriodEnd()) {
				t.Fatalf("contract %d: event %s at %s outside the period", i, e.ID, e.Time)
			}
		}
		kinds[string(p.Currency)]++
		kinds[string(p.Provider)]++
		if p.Tokens > 0 {
			kinds["graduated"]++
		}
	}
	for _, k := range []string{"USD", "EUR", "stripe", "paypal", "graduated"} {
		if kinds[k] < 20 {
			t.Errorf("only %d of 200 contracts are %s: %v", kinds[k], k, kinds)
		}
	}
}

// TestRunVerifiesExactlyAndCatchesDifferences runs 20 contracts end to end through a real Temporal
// server and PostgreSQL, expects an exact verification, then checks that the verifier reports a
// missing payment, a second charge at a fake, a wrong total and an unbalanced ledger in copies.
func TestRunVerifiesExactlyAndCatchesDifferences(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := dbtest.New(t)
	rep, err := Run(ctx, Options{DatabaseURL: d.URL, TemporalAddress: temporaltest.Address(t), TaskQueue: temporaltest.TaskQueue(t),
		Contracts: 20, PoolSize: 8, Timeout: 4 * time.Minute, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	Print(&out, rep)
	t.Log("\n" + out.String())
	v := rep.Verification
	if !v.OK() {
		t.Fatalf("verification: %s", strings.Join(v.Differences, "\n"))
	}
	if v.Invoices != 20 || v.Payments != 20 {
		t.Fatalf("verified %d invoices and %d payments, want 20 each", v.Invoices, v.Payments)
	}
	if rep.Workflows[workflowBilling]["Completed"] != 20 || len(rep.Workflows[workflowCollect]) != 0 {
		t.Fatalf("workflows: %v", rep.Workflows)
	}
	for _, a := range []string{"CloseUsage", "RateAndDraft", "Finalize", "Deliver", "ChargeInvoice"} {
		if rep.Activities[a] < 20 {
			t.Errorf("activity %s ran %d times, want at least 20", a, rep.Activities[a])
		}
	}
	if rep.LatencyP50 <= 0 || rep.LatencyP99 < rep.LatencyP50 {
		t.Errorf("latencies p50 %s p99 %s", rep.LatencyP50, rep.LatencyP99)
	}
	if !v.Expected["USD"].IsPositive() || !v.Expected["USD"].Equal(v.Booked["USD"]) {
		t.Errorf("USD expected %s booked %s", v.Expected["USD"], v.Booked["USD"])
	}

	p := rep.plans[3]
	inv := rep.observed.Invoices[p.Version.ContractID]
	tamper := func(name, want string, f func(o *Observed)) {
		t.Helper()
		o := rep.observed.Clone()
		f(o)
		got := Compare(rep.plans, o, true)
		if got.OK() {
			t.Errorf("%s: the verifier found no difference", name)
			return
		}
		if !strings.Contains(strings.Join(got.Differences, "\n"), want) {
			t.Errorf("%s: differences %q do not mention %q", name, got.Differences, want)
		}
		if again := Compare(rep.plans, rep.observed, true); !again.OK() {
			t.Errorf("%s: tampering with the copy changed the original: %v", name, again.Differences)
		}
	}
	tamper("missing payment", "contract "+p.Version.ContractID+": invoice "+inv.ID+" has 0 payments", func(o *Observed) {
		delete(o.Payments, inv.ID)
	})
	tamper("second charge", "has 2 charges at "+string(p.Provider), func(o *Observed) {
		o.Charges[inv.ID][string(p.Provider)]++
	})
	tamper("wrong total", "want "+p.Expected.String(), func(o *Observed) {
		i := o.Invoices[p.Version.ContractID]
		i.Total = i.Total.Add(decimal.RequireFromString("0.01"))
		o.Invoices[p.Version.ContractID] = i
	})
	tamper("unbalanced ledger", "sum to 0.01, want 0", func(o *Observed) {
		o.Ledger[accountReceivable][p.Currency] = o.Ledger[accountReceivable][p.Currency].Add(decimal.RequireFromString("0.01"))
	})
	tamper("failed workflow", "1 BillingCycle ended Failed", func(o *Observed) {
		o.Workflows[workflowBilling]["Completed"]--
		o.Workflows[workflowBilling]["Failed"]++
	})
	tamper("failed collection", "1 Collect ended Failed", func(o *Observed) {
		o.Workflows[workflowCollect] = map[string]int{"Failed": 1}
	})
}
