package mappings

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/contract"
)

// Values of the Opportunity's Revhub_Status__c picklist.
const (
	SFStatusPending   = "Pending"
	SFStatusActive    = "Active"
	SFStatusEnded     = "Ended"
	SFStatusCancelled = "Cancelled"
	SFStatusRejected  = "Rejected"
)

// SalesforceWriteBack returns the Opportunity fields revhub writes back for a contract: its id, status and
// the amount billed to date. The fields are a pure function of revhub's state, so re-sending them is harmless.
func SalesforceWriteBack(contractID string, status contract.Status, billedToDate decimal.Decimal) (map[string]any, error) {
	var sf string
	switch status {
	case contract.StatusDraft:
		sf = SFStatusPending
	case contract.StatusActive:
		sf = SFStatusActive
	case contract.StatusEnded:
		sf = SFStatusEnded
	case contract.StatusCancelled:
		sf = SFStatusCancelled
	default:
		return nil, fmt.Errorf("salesforce write-back: status %q has no Revhub_Status__c value", status)
	}
	if contractID == "" {
		return nil, fmt.Errorf("salesforce write-back: contract id is required")
	}
	if billedToDate.IsNegative() {
		return nil, fmt.Errorf("salesforce write-back: billed to date %s is negative", billedToDate)
	}
	return map[string]any{
		salesforce.FieldRevhubContractID:   contractID,
		salesforce.FieldRevhubStatus:       sf,
		salesforce.FieldRevhubBilledToDate: billedToDate,
	}, nil
}

// SalesforceRejectionWriteBack returns the Opportunity fields that show revenue ops a deal was rejected.
func SalesforceRejectionWriteBack() map[string]any {
	return map[string]any{salesforce.FieldRevhubStatus: SFStatusRejected}
}
