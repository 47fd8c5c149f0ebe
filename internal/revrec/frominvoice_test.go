package revrec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/revhub/revhub/internal/invoice"
)

func invDate(t *testing.T, s string) invoice.Date {
	t.Helper()
	d, err := invoice.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFromInvoices(t *testing.T) {
	a, err := FromContract(parseVersion(t, contractV1), DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	feb := invoice.Invoice{ID: "inv_2", Currency: "USD", IssueDate: invDate(t, "2026-02-01"),
		PeriodStart: invDate(t, "2026-02-01"), PeriodEnd: invDate(t, "2026-03-01"), Lines: []invoice.Line{
			{No: 1, Kind: "recurring", ComponentID: "base", Product: "PLATFORM", Amount: d("1000.00")},
			{No: 2, Kind: "seats", ComponentID: "users", Product: "seats", Amount: d("500.00")},
			{No: 3, Kind: "discount", Product: "discount", Amount: d("-150.00")},
			{No: 4, Kind: "usage", ComponentID: "api", Product: "API_CALLS", Amount: d("300.00"),
				PeriodStart: invDate(t, "2026-01-01"), PeriodEnd: invDate(t, "2026-02-01")},
			{No: 5, Kind: "usage", ComponentID: "tok", Product: "TOKENS", Amount: d("90.00"),
				PeriodStart: invDate(t, "2026-01-15"), PeriodEnd: invDate(t, "2026-02-15")},
			{No: 6, Kind: "credit", Product: "credit", Amount: d("-40.00")},
			{No: 7, Kind: "usage", ComponentID: "tok", Product: "TOKENS", Amount: d("0")},
			{No: 8, Kind: "commit_true_up", Product: "commit", Amount: d("230.77"),
				PeriodStart: invDate(t, "2026-01-01"), PeriodEnd: invDate(t, "2026-02-01")},
		}}
	jan := invoice.Invoice{ID: "inv_1", Currency: "USD", IssueDate: invDate(t, "2026-01-01"),
		PeriodStart: invDate(t, "2026-01-01"), PeriodEnd: invDate(t, "2026-02-01"), Lines: []invoice.Line{
			{No: 1, Kind: "recurring", ComponentID: "base", Product: "PLATFORM", Amount: d("1000.00")},
			{No: 2, Kind: "usage", ComponentID: "tok", Product: "TOKENS", Amount: d("12.00")}, // recognized at billing: skipped
		}}
	skip := func(inv invoice.Invoice, l invoice.Line) bool { return inv.ID == "inv_1" && l.Product == "TOKENS" }
	if err := FromInvoices(&a, []invoice.Invoice{feb, jan}, skip); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range a.Billings {
		got = append(got, fmt.Sprintf("%s %s %s %s", b.ID, b.Date.Format("2006-01-02"), b.ObligationID, b.Amount.StringFixed(2)))
	}
	// The discount of 150.00 is spread over every charge, 1000:500:300:90:230.77 (70.73, 35.36, 21.22, 6.37,
	// 16.32), the credit of 40.00 over the usage charges 300:90 (30.77, 9.23); the covered usage component
	// and the true-up bill the commit obligation (300 - 21.22 - 30.77 + 230.77 - 16.32), whose consumption
	// is the usage alone.
	want := []string{
		"inv_1 2026-01-01 base 1000.00",
		"inv_2 2026-02-01 base 929.27",
		"inv_2 2026-02-01 users 464.64",
		"inv_2 2026-02-01 commit 462.46",
		"inv_2 2026-02-01 tok 74.40",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("billings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = nil
	for _, c := range a.Consumption {
		got = append(got, fmt.Sprintf("%s %s %s", c.ObligationID, c.Month, c.Amount.StringFixed(2)))
	}
	// tok's 74.40 covers 17 days of January and 14 of February.
	want = []string{"commit 2026-01 248.01", "tok 2026-01 40.80", "tok 2026-02 33.60"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("consumption:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Compute(a, DefaultSSPTable()); err != nil {
		t.Fatalf("the arrangement with its invoices does not compute: %v", err)
	}
}

func TestFromInvoicesReportsEveryProblem(t *testing.T) {
	a, err := FromContract(parseVersion(t, strings.Replace(contractV1, "commit: {amount: \"500.00\", components: [api]}\n", "", 1)), DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	bad := []invoice.Invoice{
		{ID: "inv_eur", Currency: "EUR", IssueDate: invDate(t, "2026-01-01"), Lines: []invoice.Line{{No: 1, ComponentID: "base", Amount: d("1.00")}}},
		{ID: "inv_x", Currency: "USD", IssueDate: invDate(t, "2026-01-01"), Lines: []invoice.Line{
			{No: 1, Kind: "recurring", ComponentID: "ghost", Amount: d("5.00")},
			{No: 2, Kind: "commit_true_up", Amount: d("7.00")},
			{No: 3, Kind: "credit", Amount: d("-1.00")},
		}},
	}
	err = FromInvoices(&a, bad, nil)
	var ia *InvalidArrangement
	if !errors.As(err, &ia) {
		t.Fatalf("want *InvalidArrangement, got %v", err)
	}
	for _, want := range []string{
		"invoices[inv_eur].currency: EUR differs from the contract's USD",
		`invoices[inv_x].lines[1].component_id: component "ghost"`,
		`invoices[inv_x].lines[2].component_id: component "" (commit_true_up)`,
		"invoices[inv_x].lines[3]: credit of -1 has no charge on the invoice to reduce",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not report %s", err, want)
		}
	}
}
