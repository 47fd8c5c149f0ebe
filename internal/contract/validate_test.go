package contract

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestValidateReportsAllProblems feeds one document with many defects and expects each one, by path.
func TestValidateReportsAllProblems(t *testing.T) {
	doc := `
contract_id: ctr_bad
version: 1
status: active
customer: {external_id: cus_bad}
currency: XXX
billing_entity: revhub-us
payment_provider: cheque
start: 2026-01-01
end: 2025-12-31
billing: {cadence: weekly, timing: in_arrears}
meters:
  - id: api_calls
components:
  - id: api
    product: API
    model: graduated
    meter: api_calls
    price:
      tiers:
        - {from: 0, up_to: 1000, unit_price: "0.01"}
        - {from: 900, up_to: 5000, unit_price: "0.008"}
        - {from: 6000, unit_price: "-0.005"}
  - id: tokens
    product: TOKENS
    model: per_unit
    meter: tokenz
    price: {unit_price: "0.000002"}
    ramps:
      - {from: 2026-01-01, to: 2026-07-01, price: {unit_price: "0.000002"}}
      - {from: 2026-06-01, price: {unit_price: "0.000001"}}
      - {from: 2026-08-01, to: 2026-08-01, price: {unit_price: "0.000001"}}
  - id: api
    product: ""
    model: hourly
`
	_, err := ParseVersion([]byte(doc), YAML)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := map[string]string{
		"currency":                          "not an ISO 4217 currency",
		"payment_provider":                  "unknown provider",
		"end":                               "must be after start",
		"billing.cadence":                   "not a cadence",
		"components[0].price.tiers[1].from": "overlapping tiers",
		"components[0].price.tiers[2].from": "tier gap",
		"components[1].meter":               "unknown meter \"tokenz\"",
		"components[1].ramps[1]":            "overlap ramp 0",
		"components[2].id":                  "appears twice",
		"components[2].product":             "required",
		"components[2].model":               "unknown price model",
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.Path] += p.Reason + ";"
	}
	for path, reason := range want {
		if !strings.Contains(got[path], reason) {
			t.Errorf("%s: want a problem containing %q, got %q", path, reason, got[path])
		}
	}
	// With a valid currency the price checks run too: the negative price is reported.
	doc2 := strings.Replace(doc, "currency: XXX", "currency: USD", 1)
	_, err = ParseVersion([]byte(doc2), YAML)
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	found := false
	for _, p := range ps {
		if p.Path == "components[0].price.tiers[2].unit_price" && strings.Contains(p.Reason, "negative price") {
			found = true
		}
	}
	if !found {
		t.Errorf("negative price not reported: %v", ps)
	}
}

func TestValidateRules(t *testing.T) {
	base, err := os.ReadFile("testdata/hybrid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, old, new, path, reason string
	}{
		{"JPY fee with decimals", "currency: USD", "currency: JPY", "components[3].price.fixed_fee", "more decimal places than JPY allows (0)"},
		{"USD refuses 3 places", `amount: "1000.00"`, `amount: "1000.001"`, "components[0].price.amount", "more decimal places than USD allows (2)"},
		{"last tier bounded", `{from: 100000, unit_price: "0.001"}`, `{from: 100000, up_to: 200000, unit_price: "0.001"}`, "components[1].price.tiers[1].up_to", "last tier must be unbounded"},
		{"first tier not at zero", `{from: 0, up_to: 100000`, `{from: 10, up_to: 100000`, "components[1].price.tiers[0].from", "must start at 0"},
		{"too many decimals", `unit_price: "0.000002"`, `unit_price: "0.0000000000001"`, "components[2].price.unit_price", "at most 12 decimal places"},
		{"group without group_by", "group: gpt-4", "group: gpt-4\n    free_units: -1", "components[2].free_units", "must not be negative"},
		{"min above max", `min_fee: "0.50"`, "min_fee: \"0.50\"\n      max_fee: \"0.40\"", "components[3].price.min_fee", "above max_fee"},
		{"commit unknown component", `amount: "500.00"`, "amount: \"500.00\"\n  components: [nope]", "commit.components[0]", "unknown component"},
		{"credit expiry before grant", "expires_on: 2026-04-01", "expires_on: 2025-04-01", "credits[0].expires_on", "must be after granted_on"},
		{"discount over 100", `percent: "10"`, `percent: "110"`, "discounts[0].percent", "at most 100"},
		{"ramp mid-period", "- from: 2026-07-01", "- from: 2026-07-15", "components[2].ramps[0].from", "not a billing period boundary"},
		{"discount id clashes with a component", "- kind: percent", "- id: api\n    kind: percent", "discounts[0].id", "also a component id"},
		{"unused field", `amount: "1000.00"`, "amount: \"1000.00\"\n      unit_price: \"1\"", "components[0].price.unit_price", "not used by the flat model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(string(base), c.old, c.new, 1)
			if doc == string(base) {
				t.Fatalf("replacement %q not found", c.old)
			}
			_, err := ParseVersion([]byte(doc), YAML)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			for _, p := range ps {
				if p.Path == c.path && strings.Contains(p.Reason, c.reason) {
					return
				}
			}
			t.Fatalf("want %s: %q, got %v", c.path, c.reason, ps)
		})
	}
}

func TestAmendNeverRewritesInvoicedPeriods(t *testing.T) {
	data, _ := os.ReadFile("testdata/hybrid.yaml")
	v1, err := ParseVersion(data, YAML)
	if err != nil {
		t.Fatal(err)
	}
	c := Contract{ID: v1.ContractID, Versions: []Version{v1}}
	v2 := v1
	v2.Version = 2
	v2.EffectiveFrom = MustDate("2026-03-15")
	err = c.Amend(v2, MustDate("2026-04-01"))
	if err == nil || !strings.Contains(err.Error(), "never rewrites invoiced periods") {
		t.Fatalf("amend into invoiced past: %v", err)
	}
	if err := c.Amend(v2, MustDate("2026-03-01")); err != nil {
		t.Fatalf("amend: %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.VersionOn(MustDate("2026-03-14")); v.Version != 1 {
		t.Fatalf("VersionOn before amendment = %d", v.Version)
	}
	if v, _ := c.VersionOn(MustDate("2026-03-15")); v.Version != 2 {
		t.Fatalf("VersionOn amendment day = %d", v.Version)
	}
}
