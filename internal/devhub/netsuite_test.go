package devhub

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/connectors/netsuite"
	"github.com/revhub/revhub/internal/ledger"
	"github.com/revhub/revhub/mappings"
)

// TestNetSuiteFakeServesTheDevWorker: the worker's dev configuration reaches the dev fake, the dev
// mapping covers the default chart and the demo entities, and a mapped entry is accepted.
func TestNetSuiteFakeServesTheDevWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := Options{FakesHost: "127.0.0.1", NetSuitePort: freeTCPPort(t)}
	g, gctx := errgroup.WithContext(ctx)
	eps, err := startNetSuiteFake(gctx, g, o, quiet)
	if err != nil || len(eps) != 1 || eps[0].URL != netsuiteURL(o) {
		t.Fatalf("endpoints %v, err %v", eps, err)
	}
	defer func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}()
	cfg, err := NetSuiteMapping()
	if err != nil {
		t.Fatal(err)
	}
	chart := ledger.DefaultChart()
	if err := cfg.Validate(chart); err != nil {
		t.Fatalf("the dev mapping does not cover the default chart: %v", err)
	}
	ns, err := netsuite.New(NetSuiteConfig(o, quiet))
	if err != nil {
		t.Fatal(err)
	}
	e, err := ledger.InvoiceFinalized(chart, ledger.Invoice{ID: "inv_dev", Party: ledger.Party{Entity: "revhub-eu", Customer: "cus_1"},
		Date: ledger.Date(2026, 11, 3), Currency: "EUR", Lines: []ledger.InvoiceLine{{Product: "services", Amount: decimal.NewFromInt(90), Treatment: ledger.RecognizedAsBill}}})
	if err != nil {
		t.Fatal(err)
	}
	js, err := mappings.NetSuiteJournals(cfg, []ledger.Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.UpsertJournalEntry(ctx, js[0].ExternalID, js[0].Payload); err != nil {
		t.Fatal(err)
	}
	got, err := ns.GetJournalEntryByExternalID(ctx, js[0].ExternalID)
	if err != nil || got.Subsidiary == nil || got.Subsidiary.ID != "2" || len(got.Line.Items) != 2 {
		t.Fatalf("journal read back: %+v %v", got, err)
	}
}
