package devhub

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/connectors/netsuite"
	nsfake "github.com/revhub/revhub/connectors/netsuite/fake"
	"github.com/revhub/revhub/mappings"
	"github.com/revhub/revhub/workflows"
)

// DevNetSuiteMapping maps the default chart of accounts and the demo billing entities to the
// fake NetSuite account's internal ids.
const DevNetSuiteMapping = `
mode: one_to_one
accounts: {"1000": "110", "1100": "119", "1150": "120", "1210": "131", "1220": "132", "1230": "133", "2400": "250",
  "4000": "400", "4010": "401", "4020": "402", "4030": "403", "4080": "408", "4900": "490", "4950": "495", "6100": "610"}
subsidiaries: {revhub-us: "1", revhub-eu: "2"}
currencies: {USD: "1", GBP: "2", EUR: "4"}
departments: {platform: "5", usage: "6", services: "7", "*": "9"}
`

func netsuiteAddr(o Options) string {
	return net.JoinHostPort(o.FakesHost, strconv.Itoa(o.NetSuitePort))
}

func netsuiteURL(o Options) string { return "http://" + netsuiteAddr(o) }

// startNetSuiteFake serves a fake NetSuite account (every period open) on FakesHost:NetSuitePort.
func startNetSuiteFake(ctx context.Context, g *errgroup.Group, o Options, log *slog.Logger) ([]Endpoint, error) {
	f := nsfake.New(nsfake.Options{Chaos: o.Chaos, Logger: log.With("fake", "netsuite")})
	u, err := serveFake(ctx, g, log, "netsuite", netsuiteAddr(o), f.Handler())
	if err != nil {
		return nil, err
	}
	return []Endpoint{{"fake NetSuite", u, "account " + nsfake.DefaultAccountID + "; journals: curl " + u + "/__fake/journal-entries"}}, nil
}

// NetSuiteConfig is the worker's NetSuite connector configuration in the dev stack: the fake account.
func NetSuiteConfig(o Options, log *slog.Logger) netsuite.Config {
	return netsuite.Config{AccountID: nsfake.DefaultAccountID, BaseURL: netsuiteURL(o), Credentials: nsfake.DefaultCredentials, Logger: log}
}

// NetSuiteMapping is the dev stack's NetSuite mapping (DevNetSuiteMapping).
func NetSuiteMapping() (*mappings.NetSuiteConfig, error) {
	cfg, err := mappings.ParseNetSuiteConfig([]byte(DevNetSuiteMapping))
	if err != nil {
		return nil, fmt.Errorf("dev netsuite mapping: %w", err)
	}
	return cfg, nil
}

// DevEntities are the demo billing entities (the Billing_Entity__c values of the fake org's deals).
var DevEntities = []string{"revhub-us", "revhub-eu"}

// seedERPSchedules creates (or keeps) the hourly ERP sync schedule of each demo entity.
func seedERPSchedules(ctx context.Context, env seedEnv) ([]Endpoint, error) {
	var out []Endpoint
	for _, e := range DevEntities {
		if err := workflows.EnsureERPSchedule(ctx, env.temporal, e, env.opts.TaskQueue, 0); err != nil {
			return out, err
		}
		out = append(out, Endpoint{"ERP sync schedule", workflows.ERPScheduleID(e), "hourly; trigger it now from the Temporal UI's Schedules page"})
	}
	return out, nil
}
