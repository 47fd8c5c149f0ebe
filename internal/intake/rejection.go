package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// SourceSalesforce names Salesforce as the CRM a deal came from.
const SourceSalesforce = "salesforce"

// Rejection kinds.
const (
	KindUnmappableDeal   = "unmappable_deal"   // the deal cannot become a contract at all
	KindAmendmentRefused = "amendment_refused" // the deal changed after activation and the change cannot be applied
)

// Problem is one reason a deal was refused: the CRM field path and why.
type Problem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Rejection is a deal, in the state it was read (its SystemModstamp), that revhub refused.
type Rejection struct {
	ID             int64     `json:"id,omitempty"`
	Source         string    `json:"source"`
	OpportunityID  string    `json:"opportunity_id"`
	SystemModstamp time.Time `json:"system_modstamp"`
	Kind           string    `json:"kind"`
	Problems       []Problem `json:"problems"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
}

// Validate reports every problem of the rejection at once.
func (r Rejection) Validate() error {
	var errs []error
	if r.Source != SourceSalesforce {
		errs = append(errs, fmt.Errorf("source: %q is not a CRM (want %s)", r.Source, SourceSalesforce))
	}
	if r.OpportunityID == "" {
		errs = append(errs, errors.New("opportunity_id: required"))
	}
	if r.SystemModstamp.IsZero() {
		errs = append(errs, errors.New("system_modstamp: required"))
	}
	if r.Kind != KindUnmappableDeal && r.Kind != KindAmendmentRefused {
		errs = append(errs, fmt.Errorf("kind: %q is not %s or %s", r.Kind, KindUnmappableDeal, KindAmendmentRefused))
	}
	if len(r.Problems) == 0 {
		errs = append(errs, errors.New("problems: at least one is required"))
	}
	return errors.Join(errs...)
}

// RecordRejection stores r unless the deal's latest rejection of the same kind lists the same problems (the deal
// was read again, e.g. after the write-back bumped its SystemModstamp); it reports whether a row was added.
func RecordRejection(ctx context.Context, q db.Querier, r Rejection) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, fmt.Errorf("record rejection: %w", err)
	}
	problems, err := json.Marshal(r.Problems)
	if err != nil {
		return false, fmt.Errorf("record rejection of %s: %w", r.OpportunityID, err)
	}
	tag, err := q.Exec(ctx, `
		INSERT INTO crm_rejections (source, opportunity_id, system_modstamp, kind, field, reason, problems)
		SELECT $1, $2, $3, $4, $5, $6, $7
		WHERE NOT EXISTS (
			SELECT 1 FROM (SELECT problems FROM crm_rejections WHERE source = $1 AND opportunity_id = $2 AND kind = $4
			               ORDER BY system_modstamp DESC, id DESC LIMIT 1) latest
			WHERE latest.problems = $7::jsonb)
		ON CONFLICT ON CONSTRAINT crm_rejections_state_key DO NOTHING`,
		r.Source, r.OpportunityID, r.SystemModstamp.UTC(), r.Kind, r.Problems[0].Field, r.Problems[0].Reason, problems)
	if err != nil {
		return false, fmt.Errorf("record rejection of %s: %w", r.OpportunityID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// LatestRejections returns the newest rejection of each listed Opportunity that has one.
func LatestRejections(ctx context.Context, q db.Querier, source string, opportunityIDs []string) (map[string]Rejection, error) {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT ON (opportunity_id) id, source, opportunity_id, system_modstamp, kind, problems, created_at
		FROM crm_rejections WHERE source = $1 AND opportunity_id = ANY($2)
		ORDER BY opportunity_id, system_modstamp DESC, id DESC`, source, opportunityIDs)
	if err != nil {
		return nil, fmt.Errorf("latest rejections: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Rejection, error) {
		var r Rejection
		var problems []byte
		if err := row.Scan(&r.ID, &r.Source, &r.OpportunityID, &r.SystemModstamp, &r.Kind, &problems, &r.CreatedAt); err != nil {
			return r, err
		}
		r.SystemModstamp = r.SystemModstamp.UTC()
		return r, json.Unmarshal(problems, &r.Problems)
	})
	if err != nil {
		return nil, fmt.Errorf("latest rejections: %w", err)
	}
	out := make(map[string]Rejection, len(list))
	for _, r := range list {
		out[r.OpportunityID] = r
	}
	return out, nil
}
