package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/revrec"
)

// reportFlagOf names the revhub report flag of each revrec report request parameter.
var reportFlagOf = map[string]string{
	"report": "kind", "from": "from", "to": "to", "dimension": "dimension",
	"arrangement_id": "contract", "customer_id": "customer", "entity_id": "entity",
}

// reportCommand is `revhub report`: finance reports from the database.
func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "finance reports from the database, as CSV",
		Commands: []*cli.Command{
			{
				Name:  "revenue",
				Usage: "revenue recognition report over the stored schedules (the CSV of GET /v1/reports/revenue/{kind})",
				Description: "Kinds: schedule (per obligation and month), waterfall (recognized revenue per obligation by month),\n" +
					"roll-forward (deferred revenue and unbilled receivable per entity, currency and month), recognized\n" +
					"(by --dimension product, customer or entity) and journal (suggested entries). Months are YYYY-MM,\n" +
					"inclusive; balances always start from each contract's first month.",
				Flags: concat(databaseFlags(), []cli.Flag{
					&cli.StringFlag{Name: "kind", Required: true, Usage: "schedule, waterfall, roll-forward, recognized or journal"},
					&cli.StringFlag{Name: "from", Required: true, Usage: "first month, YYYY-MM"},
					&cli.StringFlag{Name: "to", Required: true, Usage: "last month, YYYY-MM (inclusive)"},
					&cli.StringFlag{Name: "entity", Usage: "only this billing entity"},
					&cli.StringFlag{Name: "customer", Usage: "only this customer (external id)"},
					&cli.StringFlag{Name: "contract", Usage: "only this contract"},
					&cli.StringFlag{Name: "dimension", Usage: "recognized report only: product, customer or entity"},
					&cli.StringFlag{Name: "out", Usage: "write the CSV to this file (replaced only once the report is complete) instead of stdout"},
				}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					q := url.Values{}
					for param, flag := range reportFlagOf {
						if v := cmd.String(flag); v != "" && param != "report" {
							q.Set(param, v)
						}
					}
					req, err := revrec.ParseReportRequest(cmd.String("kind"), q)
					if err != nil {
						return reportFlagError(err)
					}
					pool, err := db.Open(ctx, cmd.String(flagDatabaseURL), db.PoolOptions{MaxConns: cmd.Int32(flagDBMaxConns)})
					if err != nil {
						return err
					}
					defer pool.Close()
					var buf bytes.Buffer
					if err := revrec.WriteReport(ctx, pool, &buf, req); err != nil {
						return fmt.Errorf("report revenue %s: %w", req.Kind, err)
					}
					out := cmd.String("out")
					if out == "" {
						_, err := cmd.Root().Writer.Write(buf.Bytes())
						return err
					}
					if err := writeFileAtomic(out, buf.Bytes()); err != nil {
						return err
					}
					fmt.Fprintf(cmd.Root().ErrWriter, "wrote the %s report (%d bytes) to %s\n", req.Kind, buf.Len(), out)
					return nil
				},
			},
		},
	}
}

// reportFlagError restates revrec's request problems in terms of the command's flags.
func reportFlagError(err error) error {
	var bad *revrec.InvalidRequest
	if !errors.As(err, &bad) {
		return err
	}
	parts := make([]string, len(bad.Problems))
	for i, p := range bad.Problems {
		flag, ok := reportFlagOf[p.Field]
		if !ok {
			flag = p.Field
		}
		parts[i] = "--" + flag + ": " + p.Reason
	}
	return fmt.Errorf("report revenue: %s", strings.Join(parts, "; "))
}

// writeFileAtomic writes data to a temporary file next to path and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) //nolint:errcheck // gone after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
