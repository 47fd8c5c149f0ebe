// Command revhub is the usage-billing and revenue hub: one binary for the dev stack, the API,
// the Temporal worker, migrations and the operator tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCommand().Run(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "revhub:", err)
		os.Exit(1)
	}
}

func rootCommand() *cli.Command {
	return &cli.Command{
		Name:  "revhub",
		Usage: "usage billing and revenue hub: CRM intake, usage rating, invoicing, collection, ASC 606, ledger, ERP sync",
		Description: "Every setting is a flag with an environment variable (shown in each command's --help)\n" +
			"and a local default, so `revhub dev` runs with no configuration at all.",
		Version: version,
		Commands: []*cli.Command{
			devCommand(),
			apiCommand(),
			workerCommand(),
			migrateCommand(),
			apikeyCommand(),
			simulateCommand(),
			paymentsCommand(),
			reportCommand(),
			usageCommand(),
			benchCommand(),
			closeCommand(),
			versionCommand(),
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the revhub version",
		Action: func(_ context.Context, cmd *cli.Command) error {
			fmt.Fprintln(cmd.Root().Writer, "revhub", version)
			return nil
		},
	}
}
