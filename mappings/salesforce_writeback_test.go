package mappings

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/contract"
)

func TestSalesforceWriteBack(t *testing.T) {
	for status, want := range map[contract.Status]string{
		contract.StatusDraft: SFStatusPending, contract.StatusActive: SFStatusActive,
		contract.StatusEnded: SFStatusEnded, contract.StatusCancelled: SFStatusCancelled,
	} {
		f, err := SalesforceWriteBack("ctr_sf_006", status, decimal.RequireFromString("1250.00"))
		if err != nil || f[salesforce.FieldRevhubStatus] != want || f[salesforce.FieldRevhubContractID] != "ctr_sf_006" ||
			!f[salesforce.FieldRevhubBilledToDate].(decimal.Decimal).Equal(decimal.RequireFromString("1250")) {
			t.Errorf("%s: %v, %v", status, f, err)
		}
	}
	if _, err := SalesforceWriteBack("ctr_sf_006", "paused", decimal.Zero); err == nil {
		t.Error("unknown status accepted")
	}
	if _, err := SalesforceWriteBack("", contract.StatusActive, decimal.Zero); err == nil {
		t.Error("empty contract id accepted")
	}
	if _, err := SalesforceWriteBack("ctr", contract.StatusActive, decimal.NewFromInt(-1)); err == nil {
		t.Error("negative billed amount accepted")
	}
}
