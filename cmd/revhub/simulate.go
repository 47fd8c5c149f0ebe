package main

import (
	"github.com/urfave/cli/v3"

	"github.com/revhub/revhub/internal/simulate"
)

// simulateCommand is `revhub simulate`: rate contract documents against usage and diff proposed contracts.
func simulateCommand() *cli.Command { return simulate.Command() }
