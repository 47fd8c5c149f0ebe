package intake_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/intake"
)

// BenchmarkCRMCheck compares 10,000 closed-won deals with their contracts (1% off, 1% rejected).
func BenchmarkCRMCheck(b *testing.B) {
	const n = 10000
	deals := make([]intake.DealValue, n)
	contracts := map[string]intake.ContractValue{}
	rejections := map[string]intake.Rejection{}
	for i := range deals {
		id := fmt.Sprintf("006%015d", i)
		deals[i] = intake.DealValue{OpportunityID: id, Currency: "USD", LineTotal: decimal.NewFromInt(int64(1000 + i))}
		switch {
		case i%100 == 0:
			rejections[id] = intake.Rejection{Kind: intake.KindUnmappableDeal, Problems: []intake.Problem{{Field: "f", Reason: "r"}}}
		case i%100 == 1:
			contracts[id] = intake.ContractValue{ContractID: "ctr_sf_" + id, Currency: "USD", TCV: decimal.NewFromInt(int64(i))}
		default:
			contracts[id] = intake.ContractValue{ContractID: "ctr_sf_" + id, Currency: "USD", TCV: decimal.NewFromInt(int64(1000 + i))}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, sum, err := intake.CRMCheck("bench", deals, contracts, rejections); err != nil || sum.Matched != n-200 {
			b.Fatalf("%+v %v", sum, err)
		}
	}
}

// BenchmarkTotalContractValue values a 36-month monthly contract with a ramped fee and discounted seats.
func BenchmarkTotalContractValue(b *testing.B) {
	d := contract.MustDate
	v := contract.Version{ContractID: "c", Version: 1, Currency: "USD", Start: d("2026-01-01"), End: d("2029-01-01"),
		Billing: contract.Billing{Cadence: contract.Monthly, Timing: contract.InAdvance},
		Components: []contract.Component{
			{ID: "fee", Model: contract.Flat, Price: contract.Price{Amount: decimal.NewFromInt(1000)},
				Ramps: []contract.Ramp{{From: d("2027-01-01"), Price: contract.Price{Amount: decimal.NewFromInt(1500)}}}},
			{ID: "seats", Model: contract.Seats, Price: contract.Price{UnitPrice: decimal.NewFromInt(30), Seats: 25},
				Discount: &contract.Discount{Kind: contract.DiscountPercent, Percent: decimal.NewFromInt(10)}},
		}}
	for b.Loop() {
		if _, err := intake.TotalContractValue(v); err != nil {
			b.Fatal(err)
		}
	}
}
