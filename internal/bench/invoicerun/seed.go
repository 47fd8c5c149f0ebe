package invoicerun

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/usage"
)

// ingestBatch is how many usage events go into one Ingest call.
const ingestBatch = 5000

// Seed plans n contracts, stores them (contract.Create, `concurrency` at a time), defines the meters
// and ingests every usage event through usage.Ingester. Seeding again with the same run is a no-op.
func Seed(ctx context.Context, pool *pgxpool.Pool, g *Generator, n, concurrency int) ([]Planned, error) {
	plans := make([]Planned, n)
	for i := range plans {
		plans[i] = g.Contract(i)
	}
	ing, err := usage.NewIngester(ctx, pool, usage.IngesterOptions{MaxInFlight: max(1, concurrency)})
	if err != nil {
		return nil, fmt.Errorf("seed: usage ingester: %w", err)
	}
	defer ing.Close()
	for _, m := range Meters() {
		if _, err := ing.CreateMeter(ctx, m); err != nil {
			return nil, fmt.Errorf("seed: meter %s: %w", m.Slug, err)
		}
	}
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(max(1, concurrency))
	for i := range plans {
		eg.Go(func() error {
			if _, err := contract.Create(ectx, pool, plans[i].Version); err != nil {
				return fmt.Errorf("seed: contract %s: %w", plans[i].Version.ContractID, err)
			}
			return nil
		})
	}
	var batch []usage.Event
	flush := func(events []usage.Event) {
		eg.Go(func() error {
			res, err := ing.Ingest(ectx, events, usage.IngestOptions{})
			if err != nil {
				return fmt.Errorf("seed: ingest %d events: %w", len(events), err)
			}
			if len(res.Conflicts) > 0 || len(res.Late) > 0 {
				return fmt.Errorf("seed: ingest: %d conflicts and %d late events in a fresh run", len(res.Conflicts), len(res.Late))
			}
			return nil
		})
	}
	for i := range plans {
		batch = append(batch, plans[i].Events...)
		if len(batch) >= ingestBatch {
			flush(batch)
			batch = nil
		}
	}
	if len(batch) > 0 {
		flush(batch)
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	return plans, nil
}
