package invoice

import "testing"

func TestCycleKey(t *testing.T) {
	if got := CycleKey("ctr_1", date("2026-01-01"), date("2026-02-01")); got != "invoice:ctr_1:2026-01-01..2026-02-01" {
		t.Fatal(got)
	}
}

func TestKeys(t *testing.T) {
	if got := EventKey("inv_1", "finalized"); got != "invoice:inv_1:finalized" {
		t.Fatal(got)
	}
	if got := FullCreditKey("inv_1"); got != "credit_note:inv_1:full" {
		t.Fatal(got)
	}
}
