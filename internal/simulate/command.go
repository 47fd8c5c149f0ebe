package simulate

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/contract"
)

// Options are the inputs of `revhub simulate`.
type Options struct {
	Contracts []string // contract document paths (JSON or YAML)
	Proposed  []string // proposed contract document paths, matched to the current ones by customer
	Usage     string   // usage document (JSON/YAML) or raw events (.ndjson/.jsonl)
	Day       string   // YYYY-MM-DD inside the billing period to rate
	Format    string   // table, json or both
}

// Execute loads the files named in o, rates them and writes the output to w.
func Execute(o Options, w io.Writer) error {
	if len(o.Contracts) == 0 {
		return fmt.Errorf("simulate: --contract: at least one contract document is required")
	}
	day, err := contract.ParseDate(o.Day)
	if err != nil {
		return fmt.Errorf("simulate: --period: %w", err)
	}
	req := Request{Day: day}
	for _, p := range o.Contracts {
		c, err := LoadContract(p)
		if err != nil {
			return err
		}
		req.Contracts = append(req.Contracts, c)
	}
	for _, p := range o.Proposed {
		c, err := LoadContract(p)
		if err != nil {
			return fmt.Errorf("proposed: %w", err)
		}
		req.Proposed = append(req.Proposed, c)
	}
	if o.Usage != "" {
		all := append(append([]contract.Contract(nil), req.Contracts...), req.Proposed...)
		if req.Usage, err = LoadUsage(o.Usage, dedupeCustomers(all)); err != nil {
			return err
		}
	}
	res, err := Run(req)
	if err != nil {
		return err
	}
	switch o.Format {
	case "", "table":
		return WriteTable(w, res)
	case "json":
		return WriteJSON(w, res)
	case "both":
		if err := WriteTable(w, res); err != nil {
			return err
		}
		_, _ = io.WriteString(w, "\n")
		return WriteJSON(w, res)
	}
	return fmt.Errorf("simulate: --format: %q is not table, json or both", o.Format)
}

// dedupeCustomers keeps the first contract per customer, so usage can be matched when proposed contracts repeat them.
func dedupeCustomers(cs []contract.Contract) []contract.Contract {
	seen := map[string]bool{}
	var out []contract.Contract
	for _, c := range cs {
		if k := customerOf(c); !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// Command is the `revhub simulate` command.
func Command() *cli.Command {
	return &cli.Command{
		Name:      "simulate",
		Usage:     "rate contract documents against metered quantities or raw events and print the invoice; re-rate under a proposed contract",
		UsageText: "revhub simulate --contract FILE [--contract FILE ...] --usage FILE --period YYYY-MM-DD [--proposed FILE ...] [--format table|json|both]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "contract", Usage: "contract document (JSON or YAML, see docs/contracts.md); repeat for several customers"},
			&cli.StringSliceFlag{Name: "proposed", Usage: "proposed contract document to re-rate the same period and print the difference"},
			&cli.StringFlag{Name: "usage", Usage: "usage document (JSON or YAML) or raw events (.ndjson, one JSON event per line)"},
			&cli.StringFlag{Name: "period", Usage: "a day (YYYY-MM-DD) inside the billing period to rate"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "output: table, json or both"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			w := cmd.Root().Writer
			if w == nil {
				w = os.Stdout
			}
			return Execute(Options{
				Contracts: cmd.StringSlice("contract"),
				Proposed:  cmd.StringSlice("proposed"),
				Usage:     cmd.String("usage"),
				Day:       cmd.String("period"),
				Format:    cmd.String("format"),
			}, w)
		},
	}
}
