package simulate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const contractDoc = `contract_id: ctr_%[1]s
version: 1
status: active
customer: {external_id: cus_%[1]s}
currency: USD
billing_entity: revhub-us
payment_provider: bank
start: 2026-01-01
billing: {cadence: monthly, timing: in_arrears}
meters:
  - {id: tokens, group_by: model}
  - {id: payments}
components:
  - {id: gpt4, product: T4, model: per_unit, meter: tokens, group: gpt-4, price: {unit_price: "%[2]s"}}
  - {id: small, product: TS, model: per_unit, meter: tokens, group: small, price: {unit_price: "0.000001"}}
  - {id: pay, product: PAY, model: percentage, meter: payments, price: {percent: "1", fixed_fee: "0.10"}}
`

func doc(id, gpt4Price string) string {
	return strings.NewReplacer("%[1]s", id, "%[2]s", gpt4Price).Replace(contractDoc)
}

func TestEventsRollUpByGroupAndDay(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadContract(write(t, dir, "a.yaml", doc("a", "0.00003")))
	if err != nil {
		t.Fatal(err)
	}
	events := `{"id":"e1","meter":"tokens","timestamp":"2026-01-02T10:00:00Z","value":"1000","properties":{"model":"gpt-4"}}
{"id":"e2","meter":"tokens","timestamp":"2026-01-02T23:00:00Z","value":"500","properties":{"model":"gpt-4"}}
{"id":"e2","meter":"tokens","timestamp":"2026-01-02T23:00:00Z","value":"500","properties":{"model":"gpt-4"}}
{"id":"e3","meter":"tokens","timestamp":"2026-01-03T01:00:00Z","value":"7","properties":{"model":"small"}}
{"id":"p1","meter":"payments","timestamp":"2026-01-04T01:00:00Z","value":"200.00"}
`
	u, err := LoadUsage(write(t, dir, "e.ndjson", events), []contract.Contract{c})
	if err != nil {
		t.Fatal(err)
	}
	got := u["cus_a"]
	if len(got.Quantities) != 2 || !got.Quantities[0].Value.Equal(decimal.NewFromInt(1500)) || got.Quantities[0].Group != "gpt-4" ||
		got.Quantities[0].Date != contract.MustDate("2026-01-02") || got.Quantities[1].Group != "small" {
		t.Fatalf("quantities %+v", got.Quantities)
	}
	if len(got.Transactions) != 1 || got.Transactions[0].ID != "p1" {
		t.Fatalf("transactions %+v", got.Transactions)
	}
	bad := `{"id":"x","meter":"tokens","timestamp":"2026-01-02T10:00:00Z","value":"1","colour":"red"}
{"meter":"tokens","value":"1"}
`
	if _, err := LoadUsage(write(t, dir, "bad.ndjson", bad), []contract.Contract{c}); err == nil ||
		!strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), "line 2: id, timestamp required") {
		t.Fatalf("bad events: %v", err)
	}
	unknown := `{"id":"x","meter":"clicks","timestamp":"2026-01-02T10:00:00Z","value":"1"}`
	if _, err := LoadUsage(write(t, dir, "u.ndjson", unknown), []contract.Contract{c}); err == nil || !strings.Contains(err.Error(), `meter "clicks"`) {
		t.Fatalf("unknown meter: %v", err)
	}
}

func TestDiffPerLineCustomerAndTotal(t *testing.T) {
	dir := t.TempDir()
	usage := write(t, dir, "usage.yaml", `customers:
  cus_a:
    quantities:
      - {meter: tokens, group: gpt-4, quantity: 1000000}
    transactions:
      - {meter: payments, amount: "100.00"}
  cus_b:
    quantities:
      - {meter: tokens, group: small, quantity: 2500000}
`)
	var out strings.Builder
	err := Execute(Options{
		Contracts: []string{write(t, dir, "a.yaml", doc("a", "0.00003")), write(t, dir, "b.yaml", doc("b", "0.00003"))},
		Proposed:  []string{write(t, dir, "a2.yaml", doc("a", "0.000025")), write(t, dir, "b2.yaml", doc("b", "0.000025"))},
		Usage:     usage, Day: "2026-01-20", Format: "json",
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(mustRequest(t, dir, usage))
	if err != nil {
		t.Fatal(err)
	}
	d := res.Diff
	// cus_a: gpt-4 30.00 -> 25.00, payments 1.10 both; cus_b: small 2.50 both.
	want := map[string]string{"cus_a usage gpt4": "-5", "cus_a usage small": "0", "cus_a usage pay": "0", "cus_b usage gpt4": "0", "cus_b usage small": "0", "cus_b usage pay": "0"}
	if len(d.Lines) != len(want) {
		t.Fatalf("diff lines %+v", d.Lines)
	}
	for _, l := range d.Lines {
		if w, ok := want[l.Customer+" "+l.Line]; !ok || !l.Difference.Equal(decimal.RequireFromString(w)) {
			t.Errorf("%s %s: difference %s, want %s", l.Customer, l.Line, l.Difference, w)
		}
	}
	if len(d.Customers) != 2 || !d.Customers[0].Current.Equal(decimal.RequireFromString("31.1")) || !d.Customers[0].Difference.Equal(decimal.NewFromInt(-5)) {
		t.Fatalf("customers %+v", d.Customers)
	}
	if len(d.Totals) != 1 || !d.Totals[0].Current.Equal(decimal.RequireFromString("33.6")) || !d.Totals[0].Proposed.Equal(decimal.RequireFromString("28.6")) {
		t.Fatalf("totals %+v", d.Totals)
	}
	if !strings.Contains(out.String(), `"difference": "-5"`) {
		t.Fatalf("json output lacks the difference:\n%s", out.String())
	}
}

func mustRequest(t *testing.T, dir, usagePath string) Request {
	t.Helper()
	var req Request
	for _, p := range []struct{ id, price string }{{"a", "0.00003"}, {"b", "0.00003"}} {
		c, err := LoadContract(write(t, dir, p.id+".yaml", doc(p.id, p.price)))
		if err != nil {
			t.Fatal(err)
		}
		req.Contracts = append(req.Contracts, c)
		c2, err := LoadContract(write(t, dir, p.id+"2.yaml", doc(p.id, "0.000025")))
		if err != nil {
			t.Fatal(err)
		}
		req.Proposed = append(req.Proposed, c2)
	}
	u, err := LoadUsage(usagePath, req.Contracts)
	if err != nil {
		t.Fatal(err)
	}
	req.Usage = u
	req.Day = contract.MustDate("2026-01-20")
	return req
}

func TestSimulateInputErrors(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.yaml", doc("a", "0.00003"))
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"no contract", Options{Day: "2026-01-01"}, "--contract"},
		{"bad period", Options{Contracts: []string{a}, Day: "January"}, "--period"},
		{"usage for an unknown customer", Options{Contracts: []string{a}, Day: "2026-01-01",
			Usage: write(t, dir, "u.yaml", "customers:\n  cus_zzz: {quantities: [{meter: tokens, quantity: 1}]}\n")}, "cus_zzz"},
		{"unknown usage field", Options{Contracts: []string{a}, Day: "2026-01-01",
			Usage: write(t, dir, "v.yaml", "quantities: [{meter: tokens, qty: 1}]\n")}, `unknown field "qty"`},
		{"negative usage", Options{Contracts: []string{a}, Day: "2026-01-01",
			Usage: write(t, dir, "w.yaml", "quantities: [{meter: tokens, quantity: -1}]\n")}, "usage.quantities[0].quantity"},
		{"bad format", Options{Contracts: []string{a}, Day: "2026-01-01", Format: "xml"}, "--format"},
		{"before the contract", Options{Contracts: []string{a}, Day: "2025-12-31"}, "before the contract start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Execute(c.o, &strings.Builder{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestYAMLToJSONKeepsExactNumbers(t *testing.T) {
	js, err := yamlToJSON([]byte("a: 0.000000000001\nb: 12345678901234567890.123\nc: \"x\"\nd: [1, true, null, 2026-01-01]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `{"a":0.000000000001,"b":12345678901234567890.123,"c":"x","d":[1,true,null,"2026-01-01"]}` {
		t.Fatalf("json %s", js)
	}
}
