package main

import "github.com/urfave/cli/v3"

// benchCommand groups the load tests whose output states the speed and memory figures.
func benchCommand() *cli.Command {
	return &cli.Command{
		Name:     "bench",
		Usage:    "measure revhub on this machine; each subcommand prints its figures (see docs/performance.md)",
		Commands: []*cli.Command{benchIngestCommand(), benchInvoiceRunCommand(), benchCloseCommand()},
	}
}
