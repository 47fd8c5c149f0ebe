package salesforce_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/connectors/salesforce/fake"
)

func TestClosedWonByID(t *testing.T) {
	srv, err := fake.NewDemo(fake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c, err := salesforce.New(salesforce.Config{LoginURL: hs.URL, ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), MultiCurrency: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Acme is won, Stark is open, the third id does not exist.
	deals, err := c.ClosedWonByID(ctx, []string{"0065g00000starkAAA", "0065g00000acme1AAA", "0065g00000nonexAAA"})
	if err != nil {
		t.Fatal(err)
	}
	if len(deals) != 1 || deals[0].Opportunity.ID != "0065g00000acme1AAA" || len(deals[0].LineItems) != 2 || deals[0].Account == nil {
		t.Fatalf("deals = %+v", deals)
	}
	if err := srv.CloseWon("0065g00000starkAAA", ""); err != nil {
		t.Fatal(err)
	}
	deals, err = c.ClosedWonByID(ctx, []string{"0065g00000starkAAA"})
	if err != nil || len(deals) != 1 || deals[0].Opportunity.ID != "0065g00000starkAAA" {
		t.Fatalf("after close-won: %v %+v", err, deals)
	}
	if _, err := c.ClosedWonByID(ctx, []string{"x'; DELETE"}); err == nil {
		t.Fatal("a malformed id was sent to Salesforce")
	}
}
