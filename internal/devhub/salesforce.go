package devhub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	f, err := sffake.NewDemo(sffake.Options{ClientID: DevSalesforceClientID, ClientSecret: DevSalesforceClientSecret, Logger: log.With("fake", "salesforce")})
	if err != nil {
		return nil, fmt.Errorf("fake salesforce: %w", err)
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
