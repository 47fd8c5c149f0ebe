package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/db"
)

func apikeyCommand() *cli.Command {
	withDB := func(action func(ctx context.Context, cmd *cli.Command, pool *pgxpool.Pool) error) cli.ActionFunc {
		return func(ctx context.Context, cmd *cli.Command) error {
			pool, err := db.Open(ctx, cmd.String(flagDatabaseURL), db.PoolOptions{MaxConns: 2})
			if err != nil {
				return err
			}
			defer pool.Close()
			return action(ctx, cmd, pool)
		}
	}
	// auditFlags are the flags of a change's audit record: who acts and why (required for revoke and rotate).
	auditFlags := func(reasonRequired bool) []cli.Flag {
		return []cli.Flag{
			&cli.StringFlag{Name: "actor", Value: "cli", Usage: "who is acting, for the audit log", Sources: cli.EnvVars("REVHUB_ACTOR", "USER")},
			&cli.StringFlag{Name: "reason", Required: reasonRequired, Usage: "why, for the audit log"},
		}
	}
	return &cli.Command{
		Name:  "apikey",
		Usage: "create, list, rotate and revoke API keys (the secret is shown once, only its hash is stored)",
		Commands: []*cli.Command{
			{
				Name:  "create",
				Usage: "create a key and print its secret once",
				Flags: concat(databaseFlags(), []cli.Flag{
					&cli.StringFlag{Name: "name", Required: true, Usage: "what the key is for, e.g. usage-sender-prod"},
					&cli.StringFlag{Name: "scopes", Value: "read", Usage: "comma-separated scopes: " + strings.Join(apikey.KnownScopes, ", ")},
					&cli.IntFlag{Name: "rate-limit", Value: 0, Usage: "requests per second allowed for this key (0: unlimited)"},
					&cli.DurationFlag{Name: "expires-in", Usage: "key lifetime (0: never expires)"},
				}, auditFlags(false)),
				Action: withDB(func(ctx context.Context, cmd *cli.Command, pool *pgxpool.Pool) error {
					var exp *time.Time
					if d := cmd.Duration("expires-in"); d > 0 {
						t := time.Now().Add(d)
						exp = &t
					}
					scopes := strings.Split(cmd.String("scopes"), ",")
					for i := range scopes {
						scopes[i] = strings.TrimSpace(scopes[i])
					}
					c, err := apikey.CreateAudited(ctx, pool, cmd.String("actor"), cmd.String("reason"), cmd.String("name"), scopes, int(cmd.Int("rate-limit")), exp)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.Root().ErrWriter, "created %s (%s) with scopes %s; the secret below is shown only once\n", c.Key.ID, c.Key.Name, strings.Join(c.Key.Scopes, ","))
					fmt.Fprintln(cmd.Root().Writer, c.Secret)
					return nil
				}),
			},
			{
				Name:  "list",
				Usage: "list keys (never their secrets)",
				Flags: databaseFlags(),
				Action: withDB(func(ctx context.Context, cmd *cli.Command, pool *pgxpool.Pool) error {
					keys, err := apikey.List(ctx, pool)
					if err != nil {
						return err
					}
					w := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(w, "ID\tNAME\tSCOPES\tRATE\tCREATED\tREVOKED")
					for _, k := range keys {
						rev := ""
						if k.RevokedAt != nil {
							rev = k.RevokedAt.Format(time.RFC3339)
						}
						fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.RateLimit, k.CreatedAt.Format(time.RFC3339), rev)
					}
					return w.Flush()
				}),
			},
			{
				Name:      "revoke",
				Usage:     "revoke a key now",
				ArgsUsage: "KEY_ID",
				Flags:     concat(databaseFlags(), auditFlags(true)),
				Action: withDB(func(ctx context.Context, cmd *cli.Command, pool *pgxpool.Pool) error {
					id := cmd.Args().First()
					if id == "" {
						return fmt.Errorf("KEY_ID: required")
					}
					_, err := apikey.RevokeAudited(ctx, pool, cmd.String("actor"), cmd.String("reason"), id, time.Now())
					return err
				}),
			},
			{
				Name:      "rotate",
				Usage:     "create a replacement key and revoke the old one after a grace period",
				ArgsUsage: "KEY_ID",
				Flags: concat(databaseFlags(), auditFlags(true),
					[]cli.Flag{&cli.DurationFlag{Name: "grace", Value: 24 * time.Hour, Usage: "how long the old key keeps working"}}),
				Action: withDB(func(ctx context.Context, cmd *cli.Command, pool *pgxpool.Pool) error {
					id := cmd.Args().First()
					if id == "" {
						return fmt.Errorf("KEY_ID: required")
					}
					now, grace := time.Now(), cmd.Duration("grace")
					c, err := apikey.RotateAudited(ctx, pool, cmd.String("actor"), cmd.String("reason"), id, now, grace)
					if err != nil {
						return err
					}
					fmt.Fprintf(cmd.Root().ErrWriter, "created %s replacing %s (old key works until %s); the secret below is shown only once\n", c.Key.ID, id, now.Add(grace).Format(time.RFC3339))
					fmt.Fprintln(cmd.Root().Writer, c.Secret)
					return nil
				}),
			},
		},
	}
}
