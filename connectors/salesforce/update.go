package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/shopspring/decimal"
)

// UpdateOpportunity PATCHes fields of the Opportunity id (204 on success). decimal.Decimal values are sent
// as JSON numbers. Setting the same values again is harmless, so a retry after a lost response is safe.
func (c *RESTClient) UpdateOpportunity(ctx context.Context, id string, fields map[string]any) error {
	if !ValidID(id) {
		return fmt.Errorf("update opportunity: id %q is not a Salesforce id", id)
	}
	if len(fields) == 0 {
		return errors.New("update opportunity " + id + ": no fields to update")
	}
	body, err := encodeFields(fields)
	if err != nil {
		return fmt.Errorf("update opportunity %s: %w", id, err)
	}
	err = c.withSession(ctx, func(s *session) error {
		ct := c.transport(ctx, nil)
		u := fmt.Sprintf("%s/services/data/v%s/sobjects/Opportunity/%s", s.instanceURL, c.cfg.APIVersion, id)
		req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := (&http.Client{Transport: ct}).Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		c.noteUsage(ctx, ct.last)
		if ct.last.err != nil {
			return ct.last.err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update opportunity %s: %w", id, err)
	}
	return nil
}

// encodeFields renders the PATCH body, writing decimals as JSON numbers.
func encodeFields(fields map[string]any) ([]byte, error) {
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		switch x := v.(type) {
		case decimal.Decimal:
			out[k] = json.Number(x.String())
		case *decimal.Decimal:
			if x == nil {
				out[k] = nil
			} else {
				out[k] = json.Number(x.String())
			}
		case float32, float64:
			return nil, fmt.Errorf("field %s: use decimal.Decimal, not a float", k)
		default:
			out[k] = v
		}
	}
	return json.Marshal(out)
}
