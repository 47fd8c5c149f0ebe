package devhub

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/dbtest"
)

// TestSalesforceFakeServesTheDevIntake: the dev fake answers the connector the worker gets from SalesforceConfig,
// its control API wins a deal, and the dev API's verifier accepts a notification signed with the dev secret once.
func TestSalesforceFakeServesTheDevIntake(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := Options{FakesHost: "127.0.0.1", SalesforcePort: freeTCPPort(t)}
	g, gctx := errgroup.WithContext(ctx)
	eps, err := startSalesforceFake(gctx, g, o, quiet)
	if err != nil || len(eps) != 1 || eps[0].URL != salesforceURL(o) {
		t.Fatalf("endpoints %v, err %v", eps, err)
	}
	defer func() {
		cancel()
		if err := g.Wait(); err != nil {
			t.Error(err)
		}
	}()
	sf, err := salesforce.New(SalesforceConfig(o, quiet))
	if err != nil {
		t.Fatal(err)
	}
	before, err := sf.ClosedWonSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(salesforceURL(o)+"/__fake/opportunities/0065g00000starkAAA/close-won", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	after, err := sf.ClosedWonSince(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 6 || len(after) != 7 {
		t.Fatalf("won deals before %d, after closing Stark %d; want 6 then 7", len(before), len(after))
	}

	v := salesforcePush(dbtest.New(t).Pool)
	body := []byte(`{"notification_id":"n1","opportunity_ids":["0065g00000starkAAA"]}`)
	now := time.Now()
	h := http.Header{salesforce.HeaderTimestamp: {strconv.FormatInt(now.Unix(), 10)}, salesforce.HeaderSignature: {salesforce.Sign([]byte(DevSalesforcePushSecret), now, body)}}
	if _, err := v.Verify(ctx, h, body); err != nil {
		t.Fatalf("a notification signed with the dev secret: %v", err)
	}
	if _, err := v.Verify(ctx, h, body); err == nil {
		t.Fatal("a replayed notification was accepted")
	}
}
