package intake

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/recon"
)

// Sides of the CRM reconciliation.
const (
	SideClosedWon = "salesforce:closed_won_line_items"
	SideContracts = "contracts:total_contract_value"
	// StepIntake is the step the CRM check belongs to.
	StepIntake = "intake"
)

// DealValue is a closed-won deal as the reconciliation sees it: the sum of its line items' TotalPrice.
type DealValue struct {
	OpportunityID string          `json:"opportunity_id"`
	Currency      string          `json:"currency"`
	LineTotal     decimal.Decimal `json:"line_total"`
}

// ContractValue is the contract of a deal and its total contract value (latest version).
type ContractValue struct {
	ContractID string          `json:"contract_id"`
	Currency   money.Currency  `json:"currency"`
	TCV        decimal.Decimal `json:"tcv"`
}

// CRMSummary counts how the closed-won deals of a window stand.
type CRMSummary struct {
	Deals      int `json:"deals"`
	Matched    int `json:"matched"`    // a contract whose total contract value equals the line items
	Mismatched int `json:"mismatched"` // a contract with another value or currency
	Rejected   int `json:"rejected"`   // no contract, a recorded rejection
	Missing    int `json:"missing"`    // no contract and no rejection: the intake has not accounted for the deal
	// Unlisted names deals left out of the check because their currency is not ISO 4217 (they are rejected).
	Unlisted []string `json:"unlisted,omitempty"`
}

// CRMCheck compares closed-won deals (left) with their contracts (right, keyed by Opportunity id) in run.
// Every difference says why: a mismatch, a rejection (with its first problem) or a deal nobody accounted for.
func CRMCheck(run string, deals []DealValue, contracts map[string]ContractValue, rejections map[string]Rejection) (recon.Check, CRMSummary, error) {
	var sum CRMSummary
	left := recon.Listing{Name: SideClosedWon}
	right := recon.Listing{Name: SideContracts}
	sorted := append([]DealValue(nil), deals...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].OpportunityID < sorted[j].OpportunityID })
	for _, d := range sorted {
		sum.Deals++
		cur, err := money.ParseCurrency(d.Currency)
		c, hasContract := contracts[d.OpportunityID]
		_, rejected := rejections[d.OpportunityID]
		switch {
		case hasContract && c.Currency == cur && c.TCV.Equal(d.LineTotal):
			sum.Matched++
		case hasContract:
			sum.Mismatched++
		case rejected:
			sum.Rejected++
		default:
			sum.Missing++
		}
		if err != nil {
			sum.Unlisted = append(sum.Unlisted, d.OpportunityID)
			continue
		}
		left.Items = append(left.Items, recon.Item{Key: d.OpportunityID, Amount: d.LineTotal, Currency: cur})
		if hasContract {
			right.Items = append(right.Items, recon.Item{Key: d.OpportunityID, Amount: c.TCV, Currency: c.Currency})
		}
	}
	check, err := recon.Match(recon.CheckCRMVsContracts, run, StepIntake, left, right)
	if err != nil {
		return recon.Check{}, sum, fmt.Errorf("crm check: %w", err)
	}
	for i := range check.Differences {
		d := &check.Differences[i]
		c, hasContract := contracts[d.Key]
		rej, rejected := rejections[d.Key]
		switch {
		case !hasContract && rejected && len(rej.Problems) > 0:
			d.Reason = fmt.Sprintf("no contract: the deal was rejected (%s) at %s: %s: %s", rej.Kind, rej.SystemModstamp.Format("2006-01-02T15:04:05Z"), rej.Problems[0].Field, rej.Problems[0].Reason)
		case !hasContract:
			d.Reason = "no contract and no recorded rejection: the intake has not accounted for this closed-won deal"
		case d.Kind == recon.KindAmountMismatch:
			d.Reason = fmt.Sprintf("line items total %s, contract %s's total contract value is %s", d.Left, c.ContractID, d.Right)
		}
		if hasContract && rejected && rej.Kind == KindAmendmentRefused && len(rej.Problems) > 0 {
			d.Reason += fmt.Sprintf("; a later edit was refused: %s: %s", rej.Problems[0].Field, rej.Problems[0].Reason)
		}
	}
	return check, sum, nil
}

// SaveCRMCheck stores the check as the latest attempt of its run when nothing changed since (an activity retry
// or a quiet poll), else as the next attempt; it returns the stored result.
func SaveCRMCheck(ctx context.Context, q recon.TxQuerier, check recon.Check, tol recon.Tolerance) (recon.Result, error) {
	attempt := 1
	prev, err := recon.LatestCheck(ctx, q, check.Run, check.Name)
	switch {
	case err == nil:
		attempt = prev.Attempt
	case !errors.Is(err, recon.ErrNotFound):
		return recon.Result{}, fmt.Errorf("save crm check: %w", err)
	}
	res, err := recon.SaveResult(ctx, q, recon.NewResult(check, attempt, tol))
	if errors.Is(err, recon.ErrConflict) {
		res, err = recon.SaveResult(ctx, q, recon.NewResult(check, attempt+1, tol))
	}
	if err != nil {
		return recon.Result{}, fmt.Errorf("save crm check: %w", err)
	}
	return res, nil
}
