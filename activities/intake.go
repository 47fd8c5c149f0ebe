package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/internal/money"
	"github.com/revhub/revhub/internal/notice"
	"github.com/revhub/revhub/internal/recon"
	"github.com/revhub/revhub/mappings"
)

// SalesforceCRM is what the intake needs from Salesforce: polling, reads by id and the write-back.
type SalesforceCRM interface {
	salesforce.Client
	salesforce.DealReader
}

// Intake holds the CRM intake activities: polling closed-won deals, turning one into a contract (or an
// amendment, or a recorded rejection), writing the contract back to the Opportunity and reconciling the CRM.
type Intake struct {
	deps *Deps
}

// Notice kinds raised by the intake.
const (
	NoticeUnmappableDeal   = "unmappable_deal"
	NoticeAmendmentRefused = "amendment_refused"
	NoticeDealUnwon        = "deal_no_longer_won"
	NoticeCRMRecon         = "crm_reconciliation"
)

// DealRef names one deal in the state a poll saw it; only ids and stamps travel through workflow histories.
type DealRef struct {
	OpportunityID  string    `json:"opportunity_id"`
	SystemModstamp time.Time `json:"system_modstamp"`
}

// PollDealsInput asks for the won deals modified at or after Since.
type PollDealsInput struct {
	Since time.Time `json:"since"`
}

// Validate checks the input: every Since is valid (zero reads every won deal).
func (in PollDealsInput) Validate() error { return nil }

// PollDealsOutput lists the deals found, oldest change first, and the watermark after them.
type PollDealsOutput struct {
	Deals         []DealRef `json:"deals"`
	NextWatermark time.Time `json:"next_watermark"` // the newest SystemModstamp seen, or Since when none
}

// IngestDealInput names the Opportunity to ingest.
type IngestDealInput struct {
	OpportunityID string `json:"opportunity_id"`
}

// Validate checks the input.
func (in IngestDealInput) Validate() error {
	if !salesforce.ValidID(in.OpportunityID) || !strings.HasPrefix(in.OpportunityID, "006") {
		return invalid("opportunity_id", "%q is not an Opportunity id", in.OpportunityID)
	}
	return nil
}

// Outcomes of IngestDeal.
const (
	IngestCreated   = "created"   // version 1 stored, active
	IngestAmended   = "amended"   // a new version stored, effective on the edit's date
	IngestUnchanged = "unchanged" // the contract already holds the deal's terms
	IngestNotWon    = "not_won"   // the Opportunity is not (or no longer) won; nothing changed
)

const (
	contractPrefix = "ctr_sf_" // mappings.SalesforceContractID's prefix
	crmRunPrefix   = "intake/salesforce/"
)

// IngestDealOutput is what became of the deal.
type IngestDealOutput struct {
	Outcome        string    `json:"outcome"`
	ContractID     string    `json:"contract_id,omitempty"`
	Version        int       `json:"version,omitempty"`
	EffectiveFrom  string    `json:"effective_from,omitempty"` // of the version stored or found, YYYY-MM-DD
	SystemModstamp time.Time `json:"system_modstamp,omitzero"`
}

// DealWriteBackInput names the contract whose state goes back to its Opportunity.
type DealWriteBackInput struct {
	ContractID string `json:"contract_id"`
}

// Validate checks the input.
func (in DealWriteBackInput) Validate() error {
	id, ok := strings.CutPrefix(in.ContractID, contractPrefix)
	if !ok || !salesforce.ValidID(id) {
		return invalid("contract_id", "%q is not the contract of a Salesforce Opportunity (%s<OpportunityId>)", in.ContractID, contractPrefix)
	}
	return nil
}

// DealWriteBackOutput says what the Opportunity shows now and whether revhub had to write it.
type DealWriteBackOutput struct {
	OpportunityID string          `json:"opportunity_id"`
	Status        string          `json:"status"`
	BilledToDate  decimal.Decimal `json:"billed_to_date"`
	Written       bool            `json:"written"` // false when the Opportunity already showed these values
}

// CRMReconcileInput is the window of the CRM reconciliation: won deals modified at or after Since, stored in Run.
type CRMReconcileInput struct {
	Since time.Time `json:"since"`
	Day   string    `json:"day"` // YYYY-MM-DD; the run is intake/salesforce/{day}
	// Entity limits the check to deals billed by one billing entity (the month-end close of that
	// entity); the run is then intake/salesforce/{entity}/{day}. Empty checks every deal.
	Entity string `json:"entity,omitempty"`
}

// Validate checks the input.
func (in CRMReconcileInput) Validate() error {
	if _, err := time.Parse(time.DateOnly, in.Day); err != nil {
		return invalid("day", "want YYYY-MM-DD, got %q", in.Day)
	}
	return nil
}

// CRMReconcileOutput is the stored result of the CRM check.
type CRMReconcileOutput struct {
	Run         string            `json:"run"`
	Attempt     int               `json:"attempt"`
	Status      string            `json:"status"` // green, within_tolerance or blocked
	Differences int               `json:"differences"`
	Summary     intake.CRMSummary `json:"summary"`
	Breaches    []string          `json:"breaches,omitempty"`   // why the check is blocked
	Exceptions  []string          `json:"exceptions,omitempty"` // the first difference reasons, each naming its key
}

// crm returns the Salesforce client or a retryable error when this worker has none.
func (a *Intake) crm() (SalesforceCRM, error) {
	if a.deps.Salesforce == nil {
		return nil, errors.New("salesforce is not configured on this worker")
	}
	return a.deps.Salesforce, nil
}

// PollDeals reads the won deals modified at or after Since; the workflow ingests each by id.
func (a *Intake) PollDeals(ctx context.Context, in PollDealsInput) (PollDealsOutput, error) {
	if err := in.Validate(); err != nil {
		return PollDealsOutput{}, err
	}
	sf, err := a.crm()
	if err != nil {
		return PollDealsOutput{}, err
	}
	deals, err := sf.ClosedWonSince(ctx, in.Since)
	if err != nil {
		return PollDealsOutput{}, fmt.Errorf("poll salesforce: %w", err)
	}
	out := PollDealsOutput{Deals: make([]DealRef, 0, len(deals)), NextWatermark: in.Since}
	for _, d := range deals {
		out.Deals = append(out.Deals, DealRef{OpportunityID: d.Opportunity.ID, SystemModstamp: d.Opportunity.SystemModstamp})
		if d.Opportunity.SystemModstamp.After(out.NextWatermark) {
			out.NextWatermark = d.Opportunity.SystemModstamp
		}
	}
	return out, nil
}

// IngestDeal reads the Opportunity and maps it: a new deal becomes version 1 of its contract, activated; a deal
// whose terms changed after activation becomes the next version, effective on the edit's date (never inside an
// invoiced period); the same terms change nothing. An unmappable deal is recorded as a rejection, raised to
// revenue ops, written back as Rejected (unless it already has a contract) and returned as a non-retryable
// UnmappableDeal error; an amendment the contract rules refuse is recorded the same way as InvalidContract.
func (a *Intake) IngestDeal(ctx context.Context, in IngestDealInput) (IngestDealOutput, error) {
	if err := in.Validate(); err != nil {
		return IngestDealOutput{}, err
	}
	sf, err := a.crm()
	if err != nil {
		return IngestDealOutput{}, err
	}
	deals, err := sf.ClosedWonByID(ctx, []string{in.OpportunityID})
	if err != nil {
		return IngestDealOutput{}, fmt.Errorf("ingest %s: %w", in.OpportunityID, err)
	}
	contractID := mappings.SalesforceContractID(in.OpportunityID)
	existing, err := contract.Get(ctx, a.deps.Pool, contractID)
	hasContract := err == nil
	if err != nil && !errors.Is(err, contract.ErrNotFound) {
		return IngestDealOutput{}, fmt.Errorf("ingest %s: %w", in.OpportunityID, err)
	}
	if len(deals) == 0 {
		if hasContract {
			msg := fmt.Sprintf("Opportunity %s is no longer won in Salesforce, but contract %s exists; revhub changed nothing", in.OpportunityID, contractID)
			if _, err := notice.Raise(ctx, a.deps.Pool, "opportunity:"+in.OpportunityID, NoticeDealUnwon, contractID, msg); err != nil {
				return IngestDealOutput{}, err
			}
		}
		return IngestDealOutput{Outcome: IngestNotWon}, nil
	}
	deal := deals[0]
	stamp := deal.Opportunity.SystemModstamp
	v, err := mappings.SalesforceDeal(deal)
	var ue *mappings.UnmappableDealError
	if errors.As(err, &ue) {
		return IngestDealOutput{}, a.reject(ctx, sf, deal, hasContract, ue)
	}
	if err != nil {
		return IngestDealOutput{}, fmt.Errorf("ingest %s: %w", in.OpportunityID, err)
	}
	if !hasContract {
		v.Status = contract.StatusActive
		if _, err := contract.Create(ctx, a.deps.Pool, v); err != nil {
			return IngestDealOutput{}, a.contractError(ctx, deal, err)
		}
		a.deps.Log.InfoContext(ctx, "contract activated from salesforce", "opportunity", in.OpportunityID, "contract", contractID)
		return IngestDealOutput{Outcome: IngestCreated, ContractID: contractID, Version: 1, EffectiveFrom: v.EffectiveStart().String(), SystemModstamp: stamp}, nil
	}
	latest, _ := existing.Latest()
	same, err := sameTerms(v, latest)
	if err != nil {
		return IngestDealOutput{}, fmt.Errorf("ingest %s: %w", in.OpportunityID, err)
	}
	if same {
		return IngestDealOutput{Outcome: IngestUnchanged, ContractID: contractID, Version: latest.Version, EffectiveFrom: latest.EffectiveStart().String(), SystemModstamp: stamp}, nil
	}
	billing, err := intake.ContractBilling(ctx, a.deps.Pool, contractID)
	if err != nil {
		return IngestDealOutput{}, fmt.Errorf("ingest %s: %w", in.OpportunityID, err)
	}
	next := v
	next.Version = latest.Version + 1
	next.EffectiveFrom = intake.AmendmentDate(stamp, latest, billing.InvoicedThrough)
	next.Status = latest.Status
	if _, err := contract.Amend(ctx, a.deps.Pool, next, billing.InvoicedThrough); err != nil {
		return IngestDealOutput{}, a.contractError(ctx, deal, err)
	}
	a.deps.Log.InfoContext(ctx, "contract amended from salesforce", "opportunity", in.OpportunityID, "contract", contractID,
		"version", next.Version, "effective_from", next.EffectiveFrom.String())
	return IngestDealOutput{Outcome: IngestAmended, ContractID: contractID, Version: next.Version, EffectiveFrom: next.EffectiveFrom.String(), SystemModstamp: stamp}, nil
}

// sameTerms reports whether a mapped deal states the same terms as a stored version, ignoring the version's
// number, effective date and status (which the intake sets, not the deal).
func sameTerms(mapped, stored contract.Version) (bool, error) {
	mapped.Version, mapped.EffectiveFrom, mapped.Status = stored.Version, stored.EffectiveFrom, stored.Status
	a, err := json.Marshal(mapped)
	if err != nil {
		return false, fmt.Errorf("compare terms: %w", err)
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return false, fmt.Errorf("compare terms: %w", err)
	}
	return string(a) == string(b), nil
}

// reject records an unmappable deal, tells revenue ops, shows it on the Opportunity and returns the
// non-retryable UnmappableDeal error; a failure on the way is returned instead, so the activity retries.
func (a *Intake) reject(ctx context.Context, sf SalesforceCRM, deal salesforce.Deal, hasContract bool, ue *mappings.UnmappableDealError) error {
	kind := intake.KindUnmappableDeal
	if hasContract {
		kind = intake.KindAmendmentRefused // the edit broke an activated deal: the contract stays as it is
	}
	problems := make([]intake.Problem, len(ue.Problems))
	for i, p := range ue.Problems {
		problems[i] = intake.Problem{Field: p.Field, Reason: p.Reason}
	}
	if err := a.record(ctx, deal, kind, problems, ue.Error()); err != nil {
		return err
	}
	if !hasContract && deal.Opportunity.RevhubStatus != mappings.SFStatusRejected {
		if err := sf.UpdateOpportunity(ctx, deal.Opportunity.ID, mappings.SalesforceRejectionWriteBack()); err != nil {
			return fmt.Errorf("write back the rejection of %s: %w", deal.Opportunity.ID, err)
		}
	}
	return permanent(ErrUnmappableDeal, ue)
}

// contractError turns a contract rule refusing the deal (contract.Problems) into a recorded rejection and a
// non-retryable InvalidContract error; any other error stays retryable.
func (a *Intake) contractError(ctx context.Context, deal salesforce.Deal, err error) error {
	var ps contract.Problems
	conflict := errors.Is(err, contract.ErrVersionConflict)
	if !errors.As(err, &ps) && !conflict {
		return fmt.Errorf("ingest %s: %w", deal.Opportunity.ID, err)
	}
	var problems []intake.Problem
	for _, p := range ps {
		problems = append(problems, intake.Problem{Field: "contract." + p.Path, Reason: p.Reason})
	}
	if conflict {
		problems = append(problems, intake.Problem{Field: "contract", Reason: err.Error()})
	}
	if rerr := a.record(ctx, deal, intake.KindAmendmentRefused, problems, err.Error()); rerr != nil {
		return rerr
	}
	return permanent(ErrInvalidContract, fmt.Errorf("ingest %s: %w", deal.Opportunity.ID, err))
}

// record stores the rejection and raises it to revenue ops, once per state of the deal.
func (a *Intake) record(ctx context.Context, deal salesforce.Deal, kind string, problems []intake.Problem, message string) error {
	r := intake.Rejection{Source: intake.SourceSalesforce, OpportunityID: deal.Opportunity.ID, SystemModstamp: deal.Opportunity.SystemModstamp,
		Kind: kind, Problems: problems}
	if _, err := intake.RecordRejection(ctx, a.deps.Pool, r); err != nil {
		return err
	}
	noticeKind := NoticeUnmappableDeal
	if kind == intake.KindAmendmentRefused {
		noticeKind = NoticeAmendmentRefused
	}
	msg := fmt.Sprintf("Salesforce Opportunity %s (%s): %s", deal.Opportunity.ID, deal.Opportunity.Name, message)
	// One notice per distinct list of problems, however often the deal is read in that state.
	key, err := json.Marshal(problems)
	if err != nil {
		return fmt.Errorf("record rejection of %s: %w", deal.Opportunity.ID, err)
	}
	sum := sha256.Sum256(key)
	if _, err := notice.Raise(ctx, a.deps.Pool, "opportunity:"+deal.Opportunity.ID, noticeKind, hex.EncodeToString(sum[:8]), msg); err != nil {
		return err
	}
	a.deps.Log.WarnContext(ctx, "salesforce deal rejected", "opportunity", deal.Opportunity.ID, "kind", kind, "problems", len(problems))
	return nil
}

// WriteBack writes the contract's id, status and billed-to-date amount to its Opportunity, unless the
// Opportunity already shows exactly these values; the values are a function of revhub's state, so a retry is harmless.
func (a *Intake) WriteBack(ctx context.Context, in DealWriteBackInput) (DealWriteBackOutput, error) {
	if err := in.Validate(); err != nil {
		return DealWriteBackOutput{}, err
	}
	sf, err := a.crm()
	if err != nil {
		return DealWriteBackOutput{}, err
	}
	oppID := strings.TrimPrefix(in.ContractID, contractPrefix)
	c, err := contract.Get(ctx, a.deps.Pool, in.ContractID)
	if errors.Is(err, contract.ErrNotFound) {
		return DealWriteBackOutput{}, invalid("contract_id", "no contract %s", in.ContractID)
	}
	if err != nil {
		return DealWriteBackOutput{}, fmt.Errorf("write back %s: %w", in.ContractID, err)
	}
	latest, _ := c.Latest()
	billing, err := intake.ContractBilling(ctx, a.deps.Pool, in.ContractID)
	if err != nil {
		return DealWriteBackOutput{}, fmt.Errorf("write back %s: %w", in.ContractID, err)
	}
	billed, err := money.Round(billing.BilledToDate, latest.Currency)
	if err != nil {
		return DealWriteBackOutput{}, fmt.Errorf("write back %s: %w", in.ContractID, err)
	}
	fields, err := mappings.SalesforceWriteBack(in.ContractID, latest.Status, billed)
	if err != nil {
		return DealWriteBackOutput{}, permanent(ErrInvalidContract, err)
	}
	out := DealWriteBackOutput{OpportunityID: oppID, Status: fields[salesforce.FieldRevhubStatus].(string), BilledToDate: billed}
	deals, err := sf.ClosedWonByID(ctx, []string{oppID})
	if err != nil {
		return DealWriteBackOutput{}, fmt.Errorf("write back %s: read the Opportunity: %w", in.ContractID, err)
	}
	if len(deals) == 1 {
		o := deals[0].Opportunity
		if o.RevhubContractID == in.ContractID && o.RevhubStatus == out.Status && o.RevhubBilledToDate != nil && o.RevhubBilledToDate.Equal(billed) {
			return out, nil
		}
	}
	if err := sf.UpdateOpportunity(ctx, oppID, fields); err != nil {
		return DealWriteBackOutput{}, fmt.Errorf("write back %s: %w", in.ContractID, err)
	}
	out.Written = true
	return out, nil
}

// ReconcileCRM checks every won deal modified in the window: the sum of its line items must equal its contract's
// total contract value, and a deal without a contract must have a recorded rejection. The check and every
// difference are stored (recon, check crm_vs_contracts, run intake/salesforce/{day}); a blocked check is raised
// to revenue ops once per attempt.
func (a *Intake) ReconcileCRM(ctx context.Context, in CRMReconcileInput) (CRMReconcileOutput, error) {
	if err := in.Validate(); err != nil {
		return CRMReconcileOutput{}, err
	}
	sf, err := a.crm()
	if err != nil {
		return CRMReconcileOutput{}, err
	}
	deals, err := sf.ClosedWonSince(ctx, in.Since)
	if err != nil {
		return CRMReconcileOutput{}, fmt.Errorf("reconcile crm: %w", err)
	}
	values := make([]intake.DealValue, 0, len(deals))
	contracts := map[string]intake.ContractValue{}
	ids := make([]string, 0, len(deals))
	for _, d := range deals {
		if in.Entity != "" && d.Opportunity.BillingEntity != in.Entity {
			continue
		}
		id := d.Opportunity.ID
		ids = append(ids, id)
		values = append(values, intake.DealValue{OpportunityID: id, Currency: d.Opportunity.CurrencyIsoCode, LineTotal: intake.LineTotal(d)})
		c, err := contract.Get(ctx, a.deps.Pool, mappings.SalesforceContractID(id))
		if errors.Is(err, contract.ErrNotFound) {
			continue
		}
		if err != nil {
			return CRMReconcileOutput{}, fmt.Errorf("reconcile crm: %w", err)
		}
		latest, _ := c.Latest()
		tcv, err := intake.TotalContractValue(latest)
		if err != nil {
			return CRMReconcileOutput{}, permanent(ErrInvalidContract, fmt.Errorf("reconcile crm: %w", err))
		}
		contracts[id] = intake.ContractValue{ContractID: c.ID, Currency: latest.Currency, TCV: tcv}
	}
	rejections, err := intake.LatestRejections(ctx, a.deps.Pool, intake.SourceSalesforce, ids)
	if err != nil {
		return CRMReconcileOutput{}, fmt.Errorf("reconcile crm: %w", err)
	}
	run := crmRunPrefix + in.Day
	if in.Entity != "" {
		run = crmRunPrefix + in.Entity + "/" + in.Day
	}
	check, summary, err := intake.CRMCheck(run, values, contracts, rejections)
	if err != nil {
		return CRMReconcileOutput{}, permanent(ErrInvalidInput, err)
	}
	res, err := intake.SaveCRMCheck(ctx, a.deps.Pool, check, a.deps.CRMTolerance)
	if err != nil {
		return CRMReconcileOutput{}, err
	}
	out := CRMReconcileOutput{Run: check.Run, Attempt: res.Attempt, Status: string(res.Status), Differences: len(check.Differences), Summary: summary,
		Breaches: res.Breaches, Exceptions: differenceReasons(check.Differences, maxCloseExceptions, res.ID)}
	if res.Status == recon.StatusBlocked {
		msg := fmt.Sprintf("CRM reconciliation %s attempt %d is blocked: %d difference(s) between closed-won deals and contracts (%d missing, %d rejected, %d mismatched)",
			check.Run, res.Attempt, len(check.Differences), summary.Missing, summary.Rejected, summary.Mismatched)
		if _, err := notice.Raise(ctx, a.deps.Pool, recon.Subject(check.Run, check.Name), NoticeCRMRecon, fmt.Sprint(res.Attempt), msg); err != nil {
			return CRMReconcileOutput{}, err
		}
	}
	return out, nil
}

// FromCRM reports whether a contract was created from a CRM deal (and so is written back to it).
func FromCRM(contractID string) bool { return strings.HasPrefix(contractID, contractPrefix) }
