package revrec

import (
	"strings"
	"testing"
)

func TestDefaultSSPTable(t *testing.T) {
	tbl := DefaultSSPTable()
	for _, p := range []string{"platform", "seats", "api_calls", "onboarding", "setup"} {
		e, ok := tbl.Entry(p)
		if !ok || e.Basis == "" || len(e.Prices) != 3 {
			t.Errorf("%s: %+v", p, e)
		}
	}
	seats := Obligation{Product: "seats", Kind: KindSeats, Quantity: d("20"), Start: day("2026-07-01"), End: day("2027-01-01")}
	if v, err := tbl.SSP(seats, "USD"); err != nil || !v.Equal(d("6000")) {
		t.Fatalf("seats SSP = %s, %v", v, err)
	}
	half := Obligation{Product: "platform", Kind: KindPlatform, Start: day("2026-01-01"), End: day("2026-07-01")}
	if v, _ := tbl.SSP(half, "EUR"); !v.Equal(d("5500")) {
		t.Fatalf("half-year platform SSP = %s", v)
	}
	own := Obligation{Product: "platform", SSP: d("9999.00")}
	if v, _ := tbl.SSP(own, "USD"); !v.Equal(d("9999")) {
		t.Fatalf("own SSP = %s", v)
	}
	if _, err := tbl.SSP(Obligation{Product: "platform"}, "JPY"); err == nil || !strings.Contains(err.Error(), "JPY") {
		t.Fatalf("missing currency: %v", err)
	}
}

func TestLoadSSPTableReportsEveryProblem(t *testing.T) {
	_, err := LoadSSPTable(strings.NewReader(`
products:
  platform:
    kind: gadget
    per: week
    pattern: whenever
    prices: {USD: "abc", XXX: "1.00", EUR: "-5"}
  seats:
    kind: seats
    per: month
    basis: list
    prices: {USD: 50.10}
`))
	if err == nil {
		t.Fatal("want error")
	}
	for _, f := range []string{"products.platform.kind", "products.platform.per", "products.platform.pattern",
		"products.platform.basis", "products.platform.prices.USD", "products.platform.prices.XXX", "products.platform.prices.EUR"} {
		if !strings.Contains(err.Error(), f+":") {
			t.Errorf("no problem for %s in %v", f, err)
		}
	}
	if strings.Contains(err.Error(), "products.seats") {
		t.Errorf("seats is valid (an unquoted 50.10 is read as the decimal text): %v", err)
	}
	if _, err := LoadSSPTable(strings.NewReader("products: {x: {kind: seats, per: month, basis: b, prices: {USD: '1'}, colour: red}}")); err == nil {
		t.Error("unknown field: want error")
	}
}
