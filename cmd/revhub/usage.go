package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/usage"
)

// usageCommand is `revhub usage`: operator tools for usage events.
func usageCommand() *cli.Command {
	return &cli.Command{
		Name:  "usage",
		Usage: "usage events: backfill from files",
		Commands: []*cli.Command{
			{
				Name:      "import",
				Usage:     "import a CSV or JSONL file of usage events (resumable: rerun the same command after a crash)",
				ArgsUsage: "FILE",
				Description: "JSONL: one CloudEvent per line. CSV: a header naming id, source, type, subject, time and\n" +
					"optionally data (a JSON object), specversion and datacontenttype. Each batch commits with a\n" +
					"checkpoint of the file position; events are deduplicated on (source, id), so re-reading is harmless.",
				Flags: concat(databaseFlags(), logFlags(), []cli.Flag{
					&cli.StringFlag{Name: "format", Usage: "csv or jsonl (default: from the file extension)"},
					&cli.IntFlag{Name: "batch-size", Value: 5000, Usage: "events per transaction (at most 10000)"},
					&cli.StringFlag{Name: "name", Usage: "checkpoint name (default: the file's absolute path)"},
					&cli.BoolFlag{Name: "restart", Usage: "ignore the stored checkpoint and read from the start"},
					&cli.StringFlag{Name: "meters-file", Usage: "meters YAML file to load before importing", Sources: cli.EnvVars("REVHUB_METERS_FILE")},
					&cli.BoolFlag{Name: "migrate", Usage: "apply pending migrations first", Sources: cli.EnvVars("REVHUB_MIGRATE")},
				}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return fmt.Errorf("usage import: exactly one FILE argument is required")
					}
					log, err := newLogger(cmd)
					if err != nil {
						return err
					}
					pool, err := openDB(ctx, cmd, cmd.Bool("migrate"), log)
					if err != nil {
						return err
					}
					defer pool.Close()
					if f := cmd.String("meters-file"); f != "" {
						if _, err := usage.LoadMeterFile(ctx, pool, f); err != nil {
							return err
						}
					}
					in, err := usage.NewIngester(ctx, pool, usage.IngesterOptions{Logger: log})
					if err != nil {
						return err
					}
					defer in.Close()
					bar := &progressBar{w: cmd.Root().ErrWriter, start: time.Now()}
					prog, err := usage.Import(ctx, in, cmd.Args().First(), usage.ImportOptions{
						Format: cmd.String("format"), BatchSize: int(cmd.Int("batch-size")), Name: cmd.String("name"),
						Restart: cmd.Bool("restart"), Progress: bar.update,
					})
					bar.done()
					w := cmd.Root().Writer
					if prog.Resumed {
						fmt.Fprintln(w, "resumed from the stored checkpoint")
					}
					fmt.Fprintf(w, "read %d events (line %d of the file): %d stored, %d duplicates, %d conflicts, %d late\n",
						prog.Events, prog.Lines, prog.Stored, prog.Duplicates, prog.Conflicts, prog.Late)
					return err
				},
			},
		},
	}
}

// progressBar draws a one-line progress bar on the terminal.
type progressBar struct {
	w     io.Writer
	start time.Time
	drawn bool
}

func (b *progressBar) update(p usage.ImportProgress) {
	if b.w == nil {
		return
	}
	const width = 30
	filled := width
	permille := int64(1000)
	if p.TotalBytes > 0 {
		filled = int(p.Bytes * width / p.TotalBytes)
		permille = p.Bytes * 1000 / p.TotalBytes
	}
	pct := fmt.Sprintf("%3d.%d", permille/10, permille%10)
	rate := int64(0)
	if s := time.Since(b.start).Milliseconds(); s > 0 {
		rate = p.Events * 1000 / s
	}
	fmt.Fprintf(b.w, "\r[%s%s] %s%%  %d events  %d/s  %d duplicates ", strings.Repeat("#", filled), strings.Repeat("-", width-filled), pct, p.Events, rate, p.Duplicates)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
