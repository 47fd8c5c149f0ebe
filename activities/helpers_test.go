package activities_test

import (
	"context"
	"testing"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/ledger"
)

// newChartDB is a migrated private database with the default chart of accounts synced into it.
func newChartDB(t testing.TB) (*dbtest.DB, *ledger.Chart) {
	t.Helper()
	d := dbtest.New(t)
	ch := ledger.DefaultChart()
	if err := ledger.SyncChart(context.Background(), d.Pool, ch); err != nil {
		t.Fatal(err)
	}
	return d, ch
}

// createContracts parses each YAML contract version document and stores it as a new contract.
func createContracts(t testing.TB, q db.Querier, docs ...string) []contract.Version {
	t.Helper()
	vs := make([]contract.Version, 0, len(docs))
	for _, doc := range docs {
		v, err := contract.ParseVersion([]byte(doc), contract.YAML)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := contract.Create(context.Background(), q, v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}
