package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/usage"
)

// binDir holds the revhub binary the tests build (TestMain creates and removes it).
var binDir string

var (
	buildOnce sync.Once
	buildErr  error
)

// revhubBinary builds this command once per test run and returns the binary's path, for tests
// that run revhub as its own process, as production does.
func revhubBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "revhub")
	buildOnce.Do(func() {
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return bin
}

// meteredContract is a contract paid by card through Stripe: a 100.00 monthly platform fee and
// UnitPrice per event of its meter, billed in arrears from September 2026.
const meteredContract = `
contract_id: %[1]s
version: 1
status: active
customer: {external_id: %[2]s, name: %[3]s}
currency: USD
billing_entity: US
payment_provider: stripe
payment_method: pm_card_visa
start: 2026-09-01
billing: {cadence: monthly, timing: in_arrears}
meters:
  - id: %[4]s
components:
  - id: platform
    product: platform
    model: flat
    price: {amount: "100.00"}
  - id: calls
    product: api
    model: per_unit
    meter: %[4]s
    price: {unit_price: "%[5]s"}
`

// billingFixture is one contract of meteredContract and the usage billed on it.
type billingFixture struct {
	ContractID, Customer, CustomerName string
	Meter, EventType                   string // the meter's slug and the type of the events it counts
	UnitPrice                          string // per event, as a decimal string
	Events                             int    // events of Customer in October 2026
}

// seedBilling creates f's meter, ingests its October usage and creates its contract.
func seedBilling(ctx context.Context, t *testing.T, pool *pgxpool.Pool, f billingFixture) {
	t.Helper()
	if _, err := usage.InsertMeter(ctx, pool, &usage.Meter{Slug: f.Meter, EventType: f.EventType, Aggregation: usage.Count}); err != nil {
		t.Fatal(err)
	}
	ing, err := usage.NewIngester(ctx, pool, usage.IngesterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ing.Close()
	events := make([]usage.Event, 0, f.Events)
	for i := range f.Events {
		events = append(events, usage.Event{ID: fmt.Sprintf("%s-%d", f.Meter, i), Source: "gw", SpecVersion: "1.0", Type: f.EventType, Subject: f.Customer,
			Time: time.Date(2026, 10, 1+i%30, 12, 0, 0, 0, time.UTC)})
	}
	if _, err := ing.Ingest(ctx, events, usage.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := contract.ParseVersion(fmt.Appendf(nil, meteredContract, f.ContractID, f.Customer, f.CustomerName, f.Meter, f.UnitPrice), contract.YAML)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contract.Create(ctx, pool, v); err != nil {
		t.Fatal(err)
	}
}

// workflowHistory reads a workflow's whole history from the server, payloads as stored.
func workflowHistory(ctx context.Context, t *testing.T, tc client.Client, id string) *historypb.History {
	t.Helper()
	hist := &historypb.History{}
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		hist.Events = append(hist.Events, ev)
	}
	return hist
}
