package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/payment"
)

func TestPaymentsImportStatement(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	ref, _ := payment.Reference("INV-77")
	svc := payment.NewService(d.Pool, provider.NewRegistry(), nil)
	if err := svc.RegisterReceivable(ctx, payment.Receivable{InvoiceID: "INV-77", CustomerID: "c", Reference: ref, Currency: "EUR", Amount: decimal.RequireFromString("100.00")}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "stmt.csv")
	csv := "account,transaction_id,booked_on,amount,currency,reference\nDE89,T1,2026-11-02,100.00,EUR," + ref + "\nDE89,T2,2026-11-02,5.00,EUR,no ref\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		cmd := paymentsCommand()
		var out bytes.Buffer
		cmd.Writer = &out
		if err := cmd.Run(ctx, []string{"payments", "import-statement", "--database-url", d.URL, "--log-level", "error", file}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	out := run()
	if !strings.Contains(out, "row 2 DE89/T1: paid INV-77 applied 100") || !strings.Contains(out, "row 3 DE89/T2: unmatched") || !strings.Contains(out, payment.ExceptionNoReference) {
		t.Fatalf("output:\n%s", out)
	}
	run() // re-import: nothing changes
	if paid, _ := payment.Paid(ctx, d.Pool, "INV-77"); !paid.Equal(decimal.RequireFromString("100")) {
		t.Fatalf("paid %s after re-import", paid)
	}
}
