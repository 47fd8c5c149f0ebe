package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/revhub/revhub/activities"
)

func billingEnv(t *testing.T, contractID, total, provider string) (*testsuite.TestWorkflowEnvironment, *time.Time) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(BillingCycle)
	env.RegisterWorkflow(Collect)
	var bill *activities.Billing
	var col *activities.Collection
	var crm *activities.Intake
	env.RegisterActivity(bill)
	env.RegisterActivity(col)
	env.RegisterActivity(crm)
	cy := activities.CycleInput{ContractID: contractID, PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01"}
	amt := decimal.RequireFromString(total)
	closedAt := new(time.Time)
	env.OnActivity(bill.CloseUsage, mock.Anything, cy).Return(func(context.Context, activities.CycleInput) (activities.CloseUsageOutput, error) {
		*closedAt = env.Now()
		return activities.CloseUsageOutput{Subject: "cus_1"}, nil
	}).Once()
	env.OnActivity(bill.RateAndDraft, mock.Anything, cy).Return(activities.DraftOutput{InvoiceID: "inv_1", Customer: "cus_1", BillingEntity: "us",
		Provider: provider, PaymentMethod: "pm_card_visa", Currency: "USD", Total: amt, Lines: 2}, nil).Once()
	env.OnActivity(bill.Finalize, mock.Anything, activities.InvoiceRef{InvoiceID: "inv_1"}).Return(activities.FinalizeOutput{InvoiceID: "inv_1",
		Number: "INV-US-000001", Status: "finalized", Total: amt, AmountDue: amt, Currency: "USD"}, nil).Once()
	env.OnActivity(bill.Deliver, mock.Anything, activities.InvoiceRef{InvoiceID: "inv_1"}).Return(activities.DeliverOutput{InvoiceID: "inv_1", HTMLBytes: 10, PDFBytes: 20}, nil).Once()
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env, closedAt
}

// TestBillingCycleWaitsForGraceThenInvoicesAndCollects: nothing is closed before the period end
// plus the grace window; then the invoice is rated, finalized, delivered and charged once; a paid
// invoice needs no Collect child.
func TestBillingCycleWaitsForGraceThenInvoicesAndCollects(t *testing.T) {
	env, closedAt := billingEnv(t, "ctr_1", "118.51", "stripe")
	env.SetStartTime(time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC))
	var col *activities.Collection
	env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 1, Provider: "stripe", PaymentMethod: "pm_card_visa"}).
		Return(activities.ChargeOutput{Status: activities.ChargeSucceeded}, nil).Once()
	env.ExecuteWorkflow(BillingCycle, BillingCycleInput{ContractID: "ctr_1", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01", Grace: 3 * time.Hour})
	st := workflowResult[BillingCycleState](t, env)
	if want := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC); closedAt.Before(want) {
		t.Fatalf("usage closed at %s, before the end of the grace window %s", *closedAt, want)
	}
	if st.Number != "INV-US-000001" || st.Payment != CollectPaid || st.Collection != "" {
		t.Fatalf("paid on the first charge, no Collect child expected: state = %+v", st)
	}
	for _, s := range st.Steps {
		if s.State != StepDone {
			t.Errorf("step %s is %s", s.Name, s.State)
		}
	}
}

// TestBillingCycleWritesBackToTheDeal: a contract from Salesforce gets its billed-to-date amount
// written back to the Opportunity once the invoice is issued; a zero invoice starts no collection.
func TestBillingCycleWritesBackToTheDeal(t *testing.T) {
	env, _ := billingEnv(t, "ctr_sf_0065g00000acme1AAA", "0", "stripe")
	var crm *activities.Intake
	env.OnActivity(crm.WriteBack, mock.Anything, activities.DealWriteBackInput{ContractID: "ctr_sf_0065g00000acme1AAA"}).
		Return(activities.DealWriteBackOutput{OpportunityID: "0065g00000acme1AAA", Written: true}, nil).Once()
	env.ExecuteWorkflow(BillingCycle, BillingCycleInput{ContractID: "ctr_sf_0065g00000acme1AAA", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01"})
	st := workflowResult[BillingCycleState](t, env)
	if st.Steps[len(st.Steps)-1].State != StepSkipped || st.Collection != "" {
		t.Fatalf("zero invoice: %+v", st)
	}
}

// TestBillingCycleHandsOutstandingMoneyToCollect: a declined first charge (and a bank transfer,
// which is never charged) starts the Collect child, which carries the first attempt's outcome so
// that attempt 1 is not charged again.
func TestBillingCycleHandsOutstandingMoneyToCollect(t *testing.T) {
	for _, tc := range []struct {
		provider string
		first    *activities.ChargeOutput
	}{
		{"stripe", &activities.ChargeOutput{Status: activities.ChargeFailed, PaymentKey: "invoice:inv_1:charge:1", FailureReason: "card_declined"}},
		{"bank", nil},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			env, _ := billingEnv(t, "ctr_1", "118.51", tc.provider)
			env.SetStartTime(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
			var col *activities.Collection
			if tc.first != nil {
				env.OnActivity(col.ChargeInvoice, mock.Anything, activities.ChargeInput{InvoiceID: "inv_1", Attempt: 1, Provider: tc.provider, PaymentMethod: "pm_card_visa"}).
					Return(*tc.first, nil).Once()
			}
			var got *CollectInput
			env.OnWorkflow(Collect, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in CollectInput) (CollectState, error) {
				got = &in
				return CollectState{Status: CollectPaid}, nil
			}).Once()
			in := BillingCycleInput{ContractID: "ctr_1", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01"}
			env.ExecuteWorkflow(BillingCycle, in)
			st := workflowResult[BillingCycleState](t, env)
			if st.Collection != CollectID("inv_1") || st.Payment != "" || got == nil {
				t.Fatalf("state = %+v, collect input %+v", st, got)
			}
			sameFirst := (got.FirstAttempt == nil) == (tc.first == nil) &&
				(tc.first == nil || got.FirstAttempt.Status == tc.first.Status && got.FirstAttempt.PaymentKey == tc.first.PaymentKey && got.FirstAttempt.FailureReason == tc.first.FailureReason)
			if got.Provider != tc.provider || !sameFirst || !got.Amount.Equal(decimal.RequireFromString("118.51")) {
				t.Fatalf("collect input = %+v", got)
			}
		})
	}
}

// TestBillingCycleUpsertsOnlySearchAttributesNotGivenAtStart: a cycle started with its entity,
// customer and period search attributes (as the month-end close and the bench start it) records no
// upsert of them; one started with some of them (as the close did before it passed the period)
// upserts the rest; one started with none upserts all three.
func TestBillingCycleUpsertsOnlySearchAttributesNotGivenAtStart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start temporal.SearchAttributes
		want  []string
	}{
		{"all given", CycleSearchAttributes("us", "cus_1", "2026-10-01"), nil},
		{"entity and customer given", temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(SearchAttrEntity).ValueSet("us"),
			temporal.NewSearchAttributeKeyKeyword(SearchAttrCustomer).ValueSet("cus_1")), []string{SearchAttrPeriod + "=2026-10-01"}},
		{"a different customer given", CycleSearchAttributes("us", "cus_other", "2026-10-01"), []string{SearchAttrCustomer + "=cus_1"}},
		{"none given", temporal.SearchAttributes{}, []string{SearchAttrEntity + "=us", SearchAttrCustomer + "=cus_1", SearchAttrPeriod + "=2026-10-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := billingEnv(t, "ctr_1", "118.51", "stripe")
			env.SetStartTime(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
			if err := env.SetTypedSearchAttributesOnStart(tc.start); err != nil {
				t.Fatal(err)
			}
			var col *activities.Collection
			env.OnActivity(col.ChargeInvoice, mock.Anything, mock.Anything).Return(activities.ChargeOutput{Status: activities.ChargeSucceeded}, nil).Once()
			var got []string
			env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
				sa := args.Get(0).(temporal.SearchAttributes)
				for _, name := range []string{SearchAttrEntity, SearchAttrCustomer, SearchAttrPeriod} {
					if v, ok := sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(name)); ok {
						got = append(got, name+"="+v)
					}
				}
			}).Return(nil).Maybe()
			env.ExecuteWorkflow(BillingCycle, BillingCycleInput{ContractID: "ctr_1", PeriodStart: "2026-10-01", PeriodEnd: "2026-11-01"})
			workflowResult[BillingCycleState](t, env)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("upserted %v, want %v", got, tc.want)
			}
		})
	}
}
