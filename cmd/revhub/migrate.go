package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/db"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply or list the SQL migrations embedded in this binary",
		Commands: []*cli.Command{
			{
				Name:  "up",
				Usage: "apply every pending migration (each in its own transaction; a failure names the file)",
				Flags: databaseFlags(),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					url := cmd.String(flagDatabaseURL)
					if err := db.EnsureDatabase(ctx, url); err != nil {
						return err
					}
					applied, err := db.MigrateUp(ctx, url, nil)
					for _, m := range applied {
						fmt.Fprintf(cmd.Root().Writer, "applied %s\n", m.File)
					}
					if err != nil {
						return err
					}
					if len(applied) == 0 {
						fmt.Fprintln(cmd.Root().Writer, "database is up to date")
					}
					return nil
				},
			},
			{
				Name:  "status",
				Usage: "list every migration and whether it is applied",
				Flags: databaseFlags(),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					st, err := db.MigrateStatus(ctx, cmd.String(flagDatabaseURL), nil)
					if err != nil {
						return err
					}
					w := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "VERSION\tFILE\tSTATE")
					for _, s := range st {
						state := "pending"
						if s.Applied {
							state = "applied"
						}
						fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, s.File, state)
					}
					return w.Flush()
				},
			},
		},
	}
}
