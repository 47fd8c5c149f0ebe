package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/urfave/cli/v3"
	"go.temporal.io/sdk/client"

	"github.com/revhub/revhub/workflows"
)

// closeCommand is `revhub close start|status|approve|retry|skip|rerun`: the month-end close
// controls for those who script (the same signals as the Temporal UI and the API).
func closeCommand() *cli.Command {
	target := []cli.Flag{
		&cli.StringFlag{Name: "entity", Required: true, Usage: "billing entity, e.g. acme-us"},
		&cli.StringFlag{Name: "period", Required: true, Usage: "the closed month, YYYY-MM"},
	}
	decision := []cli.Flag{
		&cli.StringFlag{Name: "actor", Required: true, Usage: "who decides, e.g. user:jane@acme.com (kept in the audit log)", Sources: cli.EnvVars("REVHUB_ACTOR")},
		&cli.StringFlag{Name: "reason", Required: true, Usage: "why (kept in the audit log)"},
	}
	signal := func(name, usage, signal string, extra ...cli.Flag) *cli.Command {
		return &cli.Command{
			Name: name, Usage: usage,
			Flags: concat(temporalFlags(), logFlags(), target, decision, extra),
			Action: withCloseClient(func(ctx context.Context, cmd *cli.Command, tc client.Client) error {
				s := workflows.CloseSignal{Actor: cmd.String("actor"), Reason: cmd.String("reason"), Check: cmd.String("check"),
					DifferenceKey: cmd.String("difference"), Step: cmd.String("step"), Customer: cmd.String("customer")}
				if err := workflows.SignalClose(ctx, tc, cmd.String("entity"), cmd.String("period"), signal, s); err != nil {
					return err
				}
				_, err := fmt.Fprintf(cmd.Root().Writer, "sent %s to %s; run `revhub close status` to see its outcome\n", signal, workflows.CloseID(cmd.String("entity"), cmd.String("period")))
				return err
			}),
		}
	}
	return &cli.Command{
		Name:  "close",
		Usage: "start and steer the month-end close (docs/runbook.md)",
		Commands: []*cli.Command{
			{
				Name: "start", Usage: "start (or re-run) an entity's close of a period; a running close is left as it is",
				Flags: concat(temporalFlags(), logFlags(), target, []cli.Flag{
					&cli.DurationFlag{Name: "grace", Usage: "late-usage grace window after the period end (default 2h)"},
					&cli.IntFlag{Name: "fan-out", Usage: "billing cycles in flight (default 50)"},
					&cli.BoolFlag{Name: "no-collect", Usage: "finalize and deliver invoices without collecting them"},
					&cli.StringSliceFlag{Name: "skip", Usage: "steps to leave out: intake, usage_cutoff, collection, revenue, ledger_close, erp"},
					&cli.BoolFlag{Name: "wait", Usage: "wait for the close to finish and print its status"},
				}),
				Action: withCloseClient(func(ctx context.Context, cmd *cli.Command, tc client.Client) error {
					in := workflows.CloseInput{Entity: cmd.String("entity"), Period: cmd.String("period"), Grace: cmd.Duration("grace"),
						FanOut: int(cmd.Int("fan-out")), NoCollect: cmd.Bool("no-collect"), Skip: cmd.StringSlice("skip")}
					run, err := workflows.StartClose(ctx, tc, cmd.String(flagTaskQueue), in)
					if err != nil {
						return err
					}
					w := cmd.Root().Writer
					fmt.Fprintf(w, "close %s run %s\n", run.GetID(), run.GetRunID())
					if !cmd.Bool("wait") {
						return nil
					}
					var st workflows.CloseState
					if err := run.Get(ctx, &st); err != nil {
						return err
					}
					return printClose(w, st, false)
				}),
			},
			{
				Name: "status", Usage: "print a close's progress: steps, counts, checks, decisions",
				Flags: concat(temporalFlags(), logFlags(), target, []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the full state as JSON"}}),
				Action: withCloseClient(func(ctx context.Context, cmd *cli.Command, tc client.Client) error {
					st, err := workflows.CloseStatus(ctx, tc, cmd.String("entity"), cmd.String("period"))
					if err != nil {
						return err
					}
					return printClose(cmd.Root().Writer, st, cmd.Bool("json"))
				}),
			},
			signal("approve", "approve a blocked check (or one difference of it)", workflows.SignalCloseApprove,
				&cli.StringFlag{Name: "check", Required: true, Usage: "the blocked check, e.g. invoices_vs_ledger"},
				&cli.StringFlag{Name: "difference", Usage: "one difference key (e.g. an invoice id); omitted approves the whole check"}),
			signal("retry", "re-run a blocked step's check as its next attempt", workflows.SignalCloseRetryStep,
				&cli.StringFlag{Name: "step", Usage: "the blocked step; omitted means whichever is blocked"}),
			signal("skip", "leave a customer out of the close", workflows.SignalCloseSkipCustomer,
				&cli.StringFlag{Name: "customer", Required: true, Usage: "the customer's external id"}),
			signal("rerun", "bill one customer's cycles of the period again, then re-check", workflows.SignalCloseRerunCustomer,
				&cli.StringFlag{Name: "customer", Required: true, Usage: "the customer's external id"}),
		},
	}
}

// withCloseClient dials Temporal (with the payload codec when keys are set) around a close action.
func withCloseClient(f func(ctx context.Context, cmd *cli.Command, tc client.Client) error) cli.ActionFunc {
	return func(ctx context.Context, cmd *cli.Command) error {
		log, err := newLogger(cmd)
		if err != nil {
			return err
		}
		cdc, err := loadCodec(slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		tc, err := client.DialContext(ctx, temporalOptions(cmd, log, cdc))
		if err != nil {
			return fmt.Errorf("temporal %s: %w", cmd.String(flagTemporalAddress), err)
		}
		defer tc.Close()
		return f(ctx, cmd, tc)
	}
}

// printClose writes a close's state for a person (or as JSON).
func printClose(w io.Writer, st workflows.CloseState, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(w, "%s  step %s  reconciliation %s  done %t\n", st.Run, st.Step, st.Recon, st.Done)
	for i, line := range st.Summary() {
		fmt.Fprintf(w, "  %s\n", line)
		s := st.Steps[i]
		if s.State == workflows.StepBlocked && s.Detail != "" {
			fmt.Fprintf(w, "      blocked: %s\n", s.Detail)
		}
		for _, c := range s.Checks {
			for _, e := range c.Exceptions {
				fmt.Fprintf(w, "      %s: %s\n", c.Check, e)
			}
		}
	}
	if len(st.Skipped) > 0 {
		fmt.Fprintf(w, "  skipped customers: %v\n", st.Skipped)
	}
	for _, d := range st.Decisions {
		fmt.Fprintf(w, "  decision %d %s by %s (%s): %s\n", d.Seq, d.Signal.Kind, d.Signal.Actor, d.Signal.Reason, d.Outcome)
	}
	return nil
}
