// Package statement imports bank statements: CSV parsing, mapping each line to revhub's terms,
// and matching it to an invoice, for the API and the CLI alike.
package statement

import (
	"context"
	"fmt"
	"io"

	"github.com/revhub/revhub/connectors/bank"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/mappings"
)

// Result is one imported line with what matching did with it.
type Result struct {
	Row int // CSV row, header is row 1
	payment.MatchResult
}

// Import parses a statement CSV (refused as a whole, every problem listed, if any cell is bad) and
// matches its lines in order. Importing the same statement again changes nothing.
func Import(ctx context.Context, svc *payment.Service, r io.Reader) ([]Result, error) {
	lines, err := bank.ParseCSV(r)
	if err != nil {
		return nil, err
	}
	in := make([]payment.StatementLine, len(lines))
	for i, l := range lines {
		in[i] = mappings.BankStatementLine(l)
	}
	res, err := svc.MatchLines(ctx, in)
	out := make([]Result, len(res))
	for i, m := range res {
		out[i] = Result{Row: lines[i].Row, MatchResult: m}
	}
	if err != nil {
		return out, fmt.Errorf("import statement: %d of %d lines matched: %w", len(res), len(lines), err)
	}
	return out, nil
}
