package devhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/connectors/salesforce"
	sffake "github.com/revhub/revhub/connectors/salesforce/fake"
	"github.com/revhub/revhub/internal/intake"
	"github.com/revhub/revhub/workflows"
)

// Dev credentials of the fake Salesforce org and its push notifications (not secrets).
const (
	DevSalesforceClientID     = "revhub-dev"
	DevSalesforceClientSecret = "revhub-dev-secret"
	DevSalesforcePushSecret   = "revhub-dev-push-secret"
	// DevIntakePollInterval is how often the dev intake polls, so a deal closed through the fake's control API
	// becomes a contract within seconds.
	DevIntakePollInterval = 5 * time.Second
	// DevBrokenDealID is the demo org's deliberately broken deal (it blocks the revhub-eu close on crm_vs_contracts).
	DevBrokenDealID = "0065g00000broknAAA"
)

// salesforceAddr is the fake org's host:port.
func salesforceAddr(o Options) string {
	host := o.FakesHost
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(o.SalesforcePort))
}

// salesforceURL is the fake org's base URL (also its login URL).
func salesforceURL(o Options) string { return "http://" + salesforceAddr(o) }

// startSalesforceFake serves the demo org (fake.NewDemo) on FakesHost:SalesforcePort.
func startSalesforceFake(ctx context.Context, g *errgroup.Group, o Options, log *slog.Logger) ([]Endpoint, error) {
	f, err := sffake.NewDemo(sffake.Options{ClientID: DevSalesforceClientID, ClientSecret: DevSalesforceClientSecret, Chaos: o.Chaos,
		Logger: log.With("fake", "salesforce")})
	if err != nil {
		return nil, fmt.Errorf("fake salesforce: %w", err)
	}
	if err := cloneDemoDeals(f, o.ExtraDeals); err != nil {
		return nil, fmt.Errorf("fake salesforce: %w", err)
	}
	if o.WithoutBrokenDeal {
		if err := f.Update("Opportunity", DevBrokenDealID, map[string]any{"StageName": "Negotiation/Review"}); err != nil {
			return nil, fmt.Errorf("fake salesforce: reopen the broken deal: %w", err)
		}
	}
	u, err := serveFake(ctx, g, log, "salesforce", salesforceAddr(o), f.Handler())
	if err != nil {
		return nil, err
	}
	return []Endpoint{{"fake Salesforce", u, "demo org; win a deal: curl -X POST " + u + "/__fake/opportunities/0065g00000starkAAA/close-won"}}, nil
}

// SalesforceConfig is the worker's Salesforce connector configuration in the dev stack: the fake org.
func SalesforceConfig(o Options, log *slog.Logger) salesforce.Config {
	return salesforce.Config{LoginURL: salesforceURL(o), ClientID: DevSalesforceClientID, ClientSecret: DevSalesforceClientSecret,
		MultiCurrency: true, Logger: log}
}

// salesforcePush is the dev API's verifier of deal push notifications, with replays kept in PostgreSQL.
func salesforcePush(pool *pgxpool.Pool) *salesforce.Verifier {
	return &salesforce.Verifier{Secrets: [][]byte{[]byte(DevSalesforcePushSecret)}, Replays: intake.NewReplayStore(pool, nil)}
}

// seedSalesforceIntake starts the long-running intake workflow, or leaves the running one alone.
func seedSalesforceIntake(ctx context.Context, env seedEnv) ([]Endpoint, error) {
	if env.temporal == nil {
		return nil, errors.New("no Temporal client")
	}
	runID, err := workflows.EnsureIntake(ctx, env.temporal, env.opts.TaskQueue, workflows.IntakeInput{PollInterval: DevIntakePollInterval})
	if err != nil {
		return nil, err
	}
	env.log.Info("salesforce intake running", "workflow_id", workflows.IntakeID(), "run_id", runID)
	return []Endpoint{{"Salesforce intake workflow", workflows.IntakeID(),
		"polls the fake org every " + DevIntakePollInterval.String() + "; POST /v1/webhooks/salesforce/deal (signed with devhub.DevSalesforcePushSecret) signals it"}}, nil
}

// cloneDemoDeals adds n copies of each won demo deal (except the broken one) to the fake org, each
// with a copy of its account and line items, so that a bench close has volume.
func cloneDemoDeals(f *sffake.Server, n int) error {
	if n <= 0 {
		return nil
	}
	fx := sffake.DefaultFixture()
	accounts := map[any]map[string]any{}
	for _, a := range fx.Records["Account"] {
		accounts[a["Id"]] = a
	}
	lines := map[any][]map[string]any{}
	for _, l := range fx.Records["OpportunityLineItem"] {
		lines[l["OpportunityId"]] = append(lines[l["OpportunityId"]], l)
	}
	for k := 1; k <= n; k++ {
		for _, o := range fx.Records["Opportunity"] {
			if o["StageName"] != "Closed Won" || o["Id"] == DevBrokenDealID {
				continue
			}
			acct := maps.Clone(accounts[o["AccountId"]])
			delete(acct, "Id")
			acct["Name"] = fmt.Sprintf("%v %d", acct["Name"], k)
			aid, err := f.Create("Account", acct)
			if err != nil {
				return fmt.Errorf("clone account of %v: %w", o["Id"], err)
			}
			opp := maps.Clone(o)
			delete(opp, "Id")
			opp["AccountId"], opp["Name"] = aid, fmt.Sprintf("%v #%d", o["Name"], k)
			oid, err := f.Create("Opportunity", opp)
			if err != nil {
				return fmt.Errorf("clone deal %v: %w", o["Id"], err)
			}
			for _, l := range lines[o["Id"]] {
				lc := maps.Clone(l)
				delete(lc, "Id")
				lc["OpportunityId"] = oid
				if _, err := f.Create("OpportunityLineItem", lc); err != nil {
					return fmt.Errorf("clone line item %v: %w", l["Id"], err)
				}
			}
		}
	}
	return nil
}
