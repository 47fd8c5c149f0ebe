package contract

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseVersionYAMLAndJSONRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/hybrid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVersion(data, FormatOf("hybrid.yaml", data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if got := v.Components[2].Price.UnitPrice; !got.Equal(decimal.RequireFromString("0.000002")) {
		t.Fatalf("unit price = %s", got)
	}
	if v.Start != MustDate("2026-01-01") || v.Components[2].Ramps[0].From != MustDate("2026-07-01") {
		t.Fatalf("dates: start %s ramp %s", v.Start, v.Components[2].Ramps[0].From)
	}
	if p, i := v.Components[2].PriceOn(MustDate("2026-07-01")); i != 0 || !p.UnitPrice.Equal(decimal.RequireFromString("0.0000015")) {
		t.Fatalf("PriceOn ramp = %s (ramp %d)", p.UnitPrice, i)
	}
	if p, i := v.Components[2].PriceOn(MustDate("2026-06-30")); i != -1 || !p.UnitPrice.Equal(decimal.RequireFromString("0.000002")) {
		t.Fatalf("PriceOn base = %s (ramp %d)", p.UnitPrice, i)
	}
	var buf bytes.Buffer
	if err := v.Encode(&buf, JSON); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"unit_price": "0.000002"`) {
		t.Fatalf("JSON prices must be strings:\n%s", buf.String())
	}
	back, err := ParseVersion(buf.Bytes(), JSON)
	if err != nil {
		t.Fatalf("reparse JSON: %v\n%s", err, buf.String())
	}
	var again bytes.Buffer
	if err := back.Encode(&again, JSON); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Fatalf("JSON round trip differs:\n%s\n---\n%s", buf.String(), again.String())
	}
	buf.Reset()
	if err := v.Encode(&buf, YAML); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseVersion(buf.Bytes(), YAML); err != nil {
		t.Fatalf("reparse YAML: %v\n%s", err, buf.String())
	}
}

func TestParseRejectsUnknownFields(t *testing.T) {
	if _, err := ParseVersion([]byte(`{"contract_id":"c","colour":"red"}`), JSON); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("JSON unknown field: %v", err)
	}
	if _, err := ParseVersion([]byte("contract_id: c\ncolour: red\n"), YAML); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("YAML unknown field: %v", err)
	}
}

func TestDateArithmetic(t *testing.T) {
	cases := []struct {
		from   string
		months int
		want   string
	}{
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"},
		{"2026-01-15", 3, "2026-04-15"},
		{"2026-11-30", 12, "2027-11-30"},
		{"2026-03-31", -1, "2026-02-28"},
	}
	for _, c := range cases {
		if got := MustDate(c.from).AddMonths(c.months); got != MustDate(c.want) {
			t.Errorf("%s + %d months = %s, want %s", c.from, c.months, got, c.want)
		}
	}
	if n := MustDate("2026-02-01").DaysUntil(MustDate("2026-03-01")); n != 28 {
		t.Errorf("days in Feb 2026 = %d", n)
	}
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("2026-02-30: want error")
	}
}
