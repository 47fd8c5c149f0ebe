package revrec

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

const contractV1 = `
contract_id: ctr_1
version: 1
status: active
customer: {external_id: cus_1}
currency: USD
billing_entity: revhub-us
payment_provider: stripe
start: 2026-01-01
end: 2027-01-01
billing: {cadence: monthly, timing: in_advance}
meters:
  - {id: api_calls, unit: call}
  - {id: tokens, unit: token}
components:
  - {id: base, product: PLATFORM, model: flat, price: {amount: "1000.00"}}
  - {id: users, product: seats, model: seats, price: {unit_price: "50.00", seats: 10}}
  - id: api
    product: API_CALLS
    model: per_unit
    meter: api_calls
    price: {unit_price: "0.002"}
  - id: tok
    product: TOKENS
    model: per_unit
    meter: tokens
    price: {unit_price: "0.0001"}
commit: {amount: "500.00", components: [api]}
discounts:
  - {kind: percent, percent: "10"}
`

func parseVersion(t *testing.T, doc string) contract.Version {
	t.Helper()
	v, err := contract.ParseVersion([]byte(doc), contract.YAML)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func obligation(t *testing.T, obs []Obligation, id string) Obligation {
	t.Helper()
	for _, o := range obs {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("no obligation %q in %+v", id, obs)
	return Obligation{}
}

func TestFromContract(t *testing.T) {
	a, err := FromContract(parseVersion(t, contractV1), DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "ctr_1" || a.CustomerID != "cus_1" || a.EntityID != "revhub-us" || a.Currency != "USD" {
		t.Fatalf("arrangement = %+v", a)
	}
	// 12 monthly invoices of 1,000 platform and 10 x 50 seats; the 10% invoice discount on those fees is
	// consideration allocated by SSP; the committed api component becomes the commit obligation.
	base, users := obligation(t, a.Obligations, "base"), obligation(t, a.Obligations, "users")
	if base.Kind != KindPlatform || !base.Price.Equal(d("12000")) || !base.Start.Equal(day("2026-01-01")) || !base.End.Equal(day("2027-01-01")) {
		t.Errorf("base = %+v", base)
	}
	if users.Kind != KindSeats || !users.Price.Equal(d("6000")) || !users.Quantity.Equal(d("10")) {
		t.Errorf("users = %+v", users)
	}
	commit := obligation(t, a.Obligations, CommitObligationID)
	if commit.Kind != KindUsage || commit.Commitment == nil || !commit.Commitment.Amount.Equal(d("500")) || commit.Commitment.Period != CommitMonthly {
		t.Errorf("commit = %+v", commit)
	}
	if tok := obligation(t, a.Obligations, "tok"); tok.Kind != KindUsage || tok.Commitment != nil {
		t.Errorf("tok = %+v", tok)
	}
	if len(a.Obligations) != 4 || len(a.Variable) != 1 || !a.Variable[0].Amount.Equal(d("-1800")) {
		t.Fatalf("obligations %d, variable %+v", len(a.Obligations), a.Variable)
	}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	// 16,200 allocated by SSP 12,000 (platform) : 6,000 (10 seats x 50 x 12 months).
	al := s.Versions[0].Allocations
	if !al[0].Allocated.Equal(d("10800")) || !al[1].Allocated.Equal(d("5400")) {
		t.Fatalf("allocations = %+v", al)
	}
}

func TestFromContractVersionsAmendment(t *testing.T) {
	v1 := parseVersion(t, contractV1)
	v2doc := strings.Replace(contractV1, "version: 1", "version: 2\neffective_from: 2026-07-01", 1)
	v2doc = strings.Replace(v2doc, `seats: 10}`, `seats: 30}`, 1)
	v2doc = strings.Replace(v2doc, "discounts:\n  - {kind: percent, percent: \"10\"}\n", "", 1)
	v2 := parseVersion(t, v2doc)
	c := contract.Contract{ID: "ctr_1", Versions: []contract.Version{v1, v2}}
	if _, err := FromContractVersions(c, DefaultSSPTable(), nil); err == nil || !strings.Contains(err.Error(), "versions[1].version") {
		t.Fatalf("missing method: err = %v", err)
	}
	a, err := FromContractVersions(c, DefaultSSPTable(), map[int]AmendmentChoice{2: {Method: MethodProspective, Reason: "added seats are distinct"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Amendments) != 1 {
		t.Fatalf("amendments = %+v", a.Amendments)
	}
	am := a.Amendments[0]
	if am.ID != "ctr_1:v2" || am.Method != MethodProspective || !am.Effective.Equal(day("2026-07-01")) {
		t.Fatalf("amendment = %+v", am)
	}
	// The amended contract invoices 10 seats for six months and 30 for six (3,000 + 9,000) and the
	// 10% discount only in the first half (-(6,000 + 3,000) x 10% = -900).
	if users := obligation(t, am.Obligations, "users"); !users.Price.Equal(d("12000")) || !users.Start.Equal(day("2026-01-01")) {
		t.Fatalf("users = %+v", users)
	}
	if len(am.Variable) != 1 || !am.Variable[0].Amount.Equal(d("-900")) {
		t.Fatalf("variable = %+v", am.Variable)
	}
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	revenue, breakage := decimal.Zero, decimal.Zero
	for _, l := range s.Lines {
		revenue, breakage = revenue.Add(l.Revenue), breakage.Add(l.Breakage)
	}
	// Fixed fees 12,000 + 12,000 - 900; no usage was reported, so each month's 500 commit is breakage.
	if !revenue.Equal(d("23100")) || !breakage.Equal(d("6000")) {
		t.Fatalf("revenue %s, breakage %s; want 23,100 and 6,000", revenue, breakage)
	}
}

func TestFromContractProblems(t *testing.T) {
	evergreen := strings.Replace(contractV1, "end: 2027-01-01\n", "", 1)
	_, err := FromContract(parseVersion(t, evergreen), DefaultSSPTable())
	if !IsInvalid(err) || !strings.Contains(err.Error(), "versions[0].end") {
		t.Fatalf("evergreen: %v", err)
	}
	wrongKind := strings.Replace(contractV1, "product: TOKENS", "product: onboarding", 1)
	_, err = FromContract(parseVersion(t, wrongKind), DefaultSSPTable())
	if !IsInvalid(err) || !strings.Contains(err.Error(), "versions[0].components[3].product") {
		t.Fatalf("usage model on a services product: %v", err)
	}
}
