package devhub

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// SearchAttribute is a custom search attribute revhub's workflows set, so revenue ops can
// filter in the Temporal UI (e.g. RevhubReconStatus="blocked").
type SearchAttribute struct {
	Name string
	Type string // Temporal CLI type name: Keyword, Text, Int, Double, Bool, Datetime, KeywordList
}

// SearchAttributes are registered by `revhub dev` on the dev server; docs/runbook.md lists them.
var SearchAttributes = []SearchAttribute{
	{"RevhubEntity", "Keyword"},
	{"RevhubPeriod", "Keyword"},
	{"RevhubCustomer", "Keyword"},
	{"RevhubStep", "Keyword"},
	{"RevhubReconStatus", "Keyword"},
}

// EnsureSearchAttributes registers any of SearchAttributes the server lacks (a reused server, a bench's own).
func EnsureSearchAttributes(ctx context.Context, tc client.Client) error {
	op := tc.OperatorService()
	list, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enums.IndexedValueType{}
	for _, sa := range SearchAttributes {
		if _, ok := list.GetCustomAttributes()[sa.Name]; ok {
			continue
		}
		t, ok := enums.IndexedValueType_value["INDEXED_VALUE_TYPE_"+strings.ToUpper(sa.Type)]
		if !ok {
			return fmt.Errorf("search attribute %s: unknown type %s", sa.Name, sa.Type)
		}
		missing[sa.Name] = enums.IndexedValueType(t)
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: "default", SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}
