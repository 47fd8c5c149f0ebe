package devhub

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/revhub/revhub/internal/contract"
	"github.com/revhub/revhub/internal/usage"
)

// demoEvent makes the i-th demo event of a meter: the event type and data the dev meters
// (meters.yaml) read, with an id that makes seeding again a no-op (dedup on source and id).
func demoEvent(meter, subject, contractID string, i int, at time.Time) (usage.Event, bool) {
	e := usage.Event{ID: fmt.Sprintf("demo-%s-%s-%d", contractID, meter, i), Source: "revhub-dev", SpecVersion: "1.0",
		Subject: subject, Time: at}
	var data map[string]any
	switch meter {
	case "api_calls":
		e.Type = "api.call"
	case "emails":
		e.Type = "email.sent"
	case "sms":
		e.Type = "sms.sent"
	case "tokens":
		e.Type = "llm.tokens"
		models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet"}
		data = map[string]any{"tokens": 1500 + (i*7919)%9000, "model": models[i%len(models)]}
	case "storage_gb_month":
		e.Type = "storage.sampled"
		data = map[string]any{"gb_months": json.Number(fmt.Sprintf("%d.25", 3+i%5))}
	case "payment_volume":
		e.Type = "payment.captured"
		data = map[string]any{"amount": json.Number(fmt.Sprintf("%d.%02d", 20+(i*37)%480, (i*13)%100)), "currency": "USD"}
	default:
		return e, false
	}
	if data != nil {
		b, _ := json.Marshal(data)
		e.Data = b
	}
	return e, true
}

// DemoCount is how many events a contract's meter gets in the demo month: a stable, different
// number per contract and meter.
func DemoCount(contractID, meter string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(contractID + "/" + meter))
	switch meter {
	case "storage_gb_month":
		return 4
	case "payment_volume":
		return 40 + int(h.Sum32()%60)
	default:
		return 300 + int(h.Sum32()%900)
	}
}

// seedDemoUsage ingests the demo month's usage of every meter the entity's contracts price, so the
// demo close bills real usage. The events are deterministic, so seeding again stores nothing new.
func seedDemoUsage(ctx context.Context, env seedEnv, cs []contract.Contract, period string) error {
	start, err := time.Parse("2006-01", period)
	if err != nil {
		return fmt.Errorf("demo usage: period %q: %w", period, err)
	}
	days := start.AddDate(0, 1, 0).Sub(start).Hours() / 24
	ing, err := usage.NewIngester(ctx, env.pool, usage.IngesterOptions{Logger: env.log})
	if err != nil {
		return err
	}
	defer ing.Close()
	var batch []usage.Event
	for _, c := range cs {
		v, ok := c.VersionOn(contract.DateOf(start.AddDate(0, 1, -1)))
		if !ok {
			continue
		}
		for _, m := range v.Meters {
			n := DemoCount(c.ID, m.ID)
			for i := range n {
				at := start.Add(time.Duration(float64(i) / float64(n) * days * float64(24*time.Hour)))
				if e, ok := demoEvent(m.ID, v.Customer.ExternalID, c.ID, i, at); ok {
					batch = append(batch, e)
				}
			}
		}
	}
	for len(batch) > 0 {
		n := min(len(batch), 5000)
		if _, err := ing.Ingest(ctx, batch[:n], usage.IngestOptions{}); err != nil {
			return fmt.Errorf("demo usage: %w", err)
		}
		batch = batch[n:]
	}
	return nil
}
