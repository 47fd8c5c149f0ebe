package salesforce

import (
	"context"
	"fmt"
	"strings"
)

// DealReader reads closed-won deals by id, for an intake told which Opportunities changed (a push notification).
type DealReader interface {
	// ClosedWonByID returns those of the listed Opportunities that are won, with Account, line items and
	// products, ordered by Id; an id that is not won (or does not exist) is simply absent.
	ClosedWonByID(ctx context.Context, ids []string) ([]Deal, error)
}

var _ DealReader = (*RESTClient)(nil)

// ClosedWonByID reads the listed Opportunities if they are won, in chunks of lineItemChunk ids.
func (c *RESTClient) ClosedWonByID(ctx context.Context, ids []string) ([]Deal, error) {
	for i, id := range ids {
		if !ValidID(id) {
			return nil, fmt.Errorf("closed-won opportunities by id: ids[%d]: %q is not a Salesforce id", i, id)
		}
	}
	var out []Deal
	for start := 0; start < len(ids); start += lineItemChunk {
		chunk := ids[start:min(start+lineItemChunk, len(ids))]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = "'" + id + "'"
		}
		fields := opportunityFields
		if c.cfg.MultiCurrency {
			fields = append(append([]string{}, fields...), "CurrencyIsoCode", "Account.CurrencyIsoCode")
		}
		soql := "SELECT " + strings.Join(fields, ", ") + " FROM Opportunity WHERE IsWon = true AND Id IN (" +
			strings.Join(quoted, ", ") + ") ORDER BY Id ASC"
		raws, err := c.Query(ctx, soql)
		if err != nil {
			return nil, fmt.Errorf("closed-won opportunities by id: %w", err)
		}
		deals, err := c.deals(ctx, raws)
		if err != nil {
			return nil, err
		}
		out = append(out, deals...)
	}
	return out, nil
}
