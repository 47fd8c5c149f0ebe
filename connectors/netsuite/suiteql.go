package netsuite

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// SuiteQL limits: at most 1000 rows a page and 100,000 rows a query.
const (
	MaxPageSize = 1000
	MaxRows     = 100000
)

// Row is one SuiteQL result row: lower-case column name -> value as text; null columns are absent.
type Row map[string]string

// Page is one page of a SuiteQL result.
type Page struct {
	Items        []Row
	Count        int
	HasMore      bool
	Offset       int
	TotalResults int
}

type pageWire struct {
	Count        int                          `json:"count"`
	HasMore      bool                         `json:"hasMore"`
	Offset       int                          `json:"offset"`
	TotalResults int                          `json:"totalResults"`
	Items        []map[string]json.RawMessage `json:"items"`
}

// SuiteQL runs one page of a query (POST /services/rest/query/v1/suiteql?limit&offset with
// Prefer: transient). Give the query an ORDER BY for stable paging.
func (c *Client) SuiteQL(ctx context.Context, query string, limit, offset int) (Page, error) {
	if limit <= 0 || limit > MaxPageSize {
		return Page{}, fmt.Errorf("netsuite: suiteql limit %d: must be 1-%d", limit, MaxPageSize)
	}
	if offset < 0 {
		return Page{}, fmt.Errorf("netsuite: suiteql offset %d: must not be negative", offset)
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	_, b, err := c.do(ctx, http.MethodPost, "/services/rest/query/v1/suiteql", q, map[string]string{"q": query},
		map[string]string{"Prefer": "transient"})
	if err != nil {
		return Page{}, err
	}
	var w pageWire
	if err := json.Unmarshal(b, &w); err != nil {
		return Page{}, fmt.Errorf("netsuite: decode suiteql page: %w", err)
	}
	p := Page{Count: w.Count, HasMore: w.HasMore, Offset: w.Offset, TotalResults: w.TotalResults, Items: make([]Row, 0, len(w.Items))}
	for _, it := range w.Items {
		r := Row{}
		for k, raw := range it {
			if k == "links" || string(raw) == "null" {
				continue
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw) // numbers and booleans keep their JSON text
			}
			r[k] = s
		}
		p.Items = append(p.Items, r)
	}
	return p, nil
}

// SuiteQLAll pages through a query (Config.PageSize rows at a time) until hasMore is false.
func (c *Client) SuiteQLAll(ctx context.Context, query string) ([]Row, error) {
	var out []Row
	for offset := 0; ; {
		p, err := c.SuiteQL(ctx, query, c.cfg.PageSize, offset)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasMore || len(p.Items) == 0 {
			return out, nil
		}
		offset += len(p.Items)
		if offset >= MaxRows {
			return nil, fmt.Errorf("netsuite: suiteql result exceeds %d rows: narrow the query", MaxRows)
		}
	}
}
