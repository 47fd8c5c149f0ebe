package bank

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

const good = "Booked_On,Account,Transaction_ID,Amount,Currency,Reference,Counterparty,Extra\n" +
	"2026-11-02,DE89370400440532013000,TX-1,1250.00,EUR,RF18 5390 0754 7034,ACME GmbH,x\n" +
	"2026-11-03,DE89370400440532013000,TX-2,-12.5,EUR,fee,,\n" +
	"2026-11-03,JP-ACC,TX-1,5000,JPY,\"RF18539007547034, thanks\",\"Tanaka, K.\",\n"

func TestParseCSV(t *testing.T) {
	lines, err := ParseCSV(strings.NewReader("\ufeff" + good))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	l := lines[0]
	if l.Row != 2 || l.Account != "DE89370400440532013000" || l.TransactionID != "TX-1" || l.BookedOn.Format("2006-01-02") != "2026-11-02" ||
		!l.Amount.Equal(decimal.RequireFromString("1250")) || l.Currency != "EUR" || l.Reference != "RF18 5390 0754 7034" || l.Counterparty != "ACME GmbH" {
		t.Fatalf("line 1: %+v", l)
	}
	if !lines[1].Amount.Equal(decimal.RequireFromString("-12.5")) || lines[2].Counterparty != "Tanaka, K." || lines[2].Reference != "RF18539007547034, thanks" {
		t.Fatalf("lines 2-3: %+v %+v", lines[1], lines[2])
	}
}

func TestParseCSVReportsEveryProblem(t *testing.T) {
	in := "account,transaction_id,booked_on,amount,currency\n" +
		"A,T1,2026-13-01,10.00,EUR\n" +
		",T2,2026-11-01,1.234,EUR\n" +
		"A,T1,2026-11-01,1e3,usd\n" +
		"A,T4,2026-11-01,0,JPY\n" +
		"A,T5,2026-11-01,10.5,JPY\n"
	_, err := ParseCSV(strings.NewReader(in))
	for _, want := range []string{
		`row 2: booked_on: "2026-13-01" is not a date`,
		"row 3: account: is required",
		"row 3: amount: 1.234 has more decimals than EUR allows",
		`row 4: transaction_id: "T1" repeats row 2`,
		`row 4: currency: "usd" is not a supported upper-case`,
		`row 4: amount: "1e3" is not a decimal`,
		"row 5: amount: must not be zero",
		"row 6: amount: 10.5 has more decimals than JPY allows",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant it to contain %q", err, want)
		}
	}
	_, err = ParseCSV(strings.NewReader("account,amount\n"))
	for _, want := range []string{`column "transaction_id" is required`, `column "booked_on" is required`, `column "currency" is required`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("header error %v; want %q", err, want)
		}
	}
	if _, err := ParseCSV(strings.NewReader("")); err == nil {
		t.Error("empty file accepted")
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add(good)
	f.Add("account,transaction_id,booked_on,amount,currency\nA,T,2026-01-01,1,EUR\n")
	f.Add("account,transaction_id,booked_on,amount,currency\n\"A,T,2026-01-01,1,EUR\n")
	f.Add("account,account\n")
	f.Fuzz(func(t *testing.T, in string) {
		lines, err := ParseCSV(strings.NewReader(in))
		if err != nil {
			if lines != nil {
				t.Fatal("lines returned with an error")
			}
			return
		}
		seen := map[[2]string]bool{}
		for _, l := range lines {
			if l.Account == "" || l.TransactionID == "" || l.Amount.IsZero() || !l.Currency.Valid() || l.BookedOn.IsZero() {
				t.Fatalf("accepted an invalid line: %+v", l)
			}
			k := [2]string{l.Account, l.TransactionID}
			if seen[k] {
				t.Fatalf("accepted a repeated transaction id: %+v", l)
			}
			seen[k] = true
		}
	})
}

func BenchmarkParseCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("account,transaction_id,booked_on,amount,currency,reference,counterparty\n")
	for i := range 10_000 {
		fmt.Fprintf(&sb, "DE89370400440532013000,TX-%d,2026-11-02,%d.%02d,EUR,RF18 5390 0754 7034,ACME GmbH\n", i, i+1, i%100)
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseCSV(strings.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}
