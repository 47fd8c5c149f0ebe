package rating

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
)

// BenchmarkRate1M rates 1,000,000 (customer, component, quantity) rows: 100,000 customers, each with a
// 10-component usage contract (per unit, graduated, volume, package, tokens per model) and one quantity per component.
func BenchmarkRate1M(b *testing.B) {
	const customers, perCustomer = 100_000, 10
	var comps string
	models := []string{
		`model: per_unit, meter: api_calls, price: {unit_price: "0.002"}`,
		`model: graduated, meter: api_calls, free_units: 100, price: {tiers: [{from: 0, up_to: 1000, unit_price: "0.01"}, {from: 1000, up_to: 5000, unit_price: "0.008"}, {from: 5000, unit_price: "0.005"}]}`,
		`model: volume, meter: api_calls, price: {tiers: [{from: 0, up_to: 1000, unit_price: "0.01"}, {from: 1000, unit_price: "0.008"}]}`,
		`model: package, meter: api_calls, price: {package_size: 1000, package_price: "5.00"}`,
		`model: per_unit, meter: tokens, price: {unit_price: "0.000002"}`,
	}
	for i := 0; i < perCustomer; i++ {
		comps += fmt.Sprintf("  - {id: c%d, product: P%d, %s}\n", i, i, models[i%len(models)])
	}
	// Each component reads its own meter group, so every row is one (customer, component, quantity).
	doc := "components:\n" + comps
	v := version(b, "USD", doc)
	for i := range v.Meters {
		v.Meters[i].GroupBy = "g"
	}
	for i := range v.Components {
		v.Components[i].Group = fmt.Sprintf("g%d", i)
	}
	const variants = 1000
	contracts := make([]contract.Contract, variants)
	usages := make([]Usage, variants)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range variants {
		cv := v
		cv.ContractID = fmt.Sprintf("ctr_%d", i)
		cv.Customer.ExternalID = fmt.Sprintf("cus_%d", i)
		contracts[i] = contract.Contract{ID: cv.ContractID, Versions: []contract.Version{cv}}
		qs := make([]Quantity, perCustomer)
		for j := range qs {
			meter := "api_calls"
			if j%len(models) == 4 {
				meter = "tokens"
			}
			qs[j] = Quantity{Meter: meter, Group: fmt.Sprintf("g%d", j), Value: decimal.NewFromInt(rng.Int64N(20_000))}
		}
		usages[i] = Usage{Quantities: qs}
	}
	b.ReportAllocs()
	b.ResetTimer()
	rows := 0
	for b.Loop() {
		for c := range customers {
			inv, err := Rate(contracts[c%variants], jan, usages[c%variants])
			if err != nil {
				b.Fatal(err)
			}
			rows += len(inv.Lines)
		}
	}
	if rows != b.N*customers*perCustomer {
		b.Fatalf("rated %d rows, want %d", rows, b.N*customers*perCustomer)
	}
	perRow := float64(b.Elapsed().Nanoseconds()) / float64(rows)
	b.ReportMetric(perRow, "ns/row")
	b.ReportMetric(1e9/perRow, "rows/s")
}
