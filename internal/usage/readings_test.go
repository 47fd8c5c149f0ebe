package usage

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/dbtest"
)

func TestReadingsListEachOnTimeEvent(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	m := &Meter{Slug: "payment_volume", EventType: "payment.captured", Aggregation: Sum, ValueProperty: "$.amount",
		GroupBy: map[string]string{"currency": "$.currency"}}
	if _, err := InsertMeter(ctx, d.Pool, m); err != nil {
		t.Fatal(err)
	}
	ing, err := NewIngester(ctx, d.Pool, IngesterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ing.Close)
	var evs []Event
	for i, amt := range []string{"10.50", "250", "0.99"} {
		data, _ := json.Marshal(map[string]any{"amount": json.Number(amt), "currency": "USD"})
		evs = append(evs, Event{ID: fmt.Sprintf("p%d", i), Source: "psp", SpecVersion: "1.0", Type: "payment.captured", Subject: "cus_1",
			Time: time.Date(2026, 10, 2+i, 9, 0, 0, 0, time.UTC), Data: data})
	}
	other, _ := json.Marshal(map[string]any{"amount": 7, "currency": "USD"})
	evs = append(evs, Event{ID: "x", Source: "psp", SpecVersion: "1.0", Type: "payment.captured", Subject: "cus_2", Time: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC), Data: other})
	if _, err := ing.Ingest(ctx, evs, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := Readings(ctx, d.Pool, m, "cus_1", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.5", "250", "0.99"}
	if len(got) != len(want) {
		t.Fatalf("readings = %+v", got)
	}
	for i, r := range got {
		if r.Value.String() != want[i] || r.Groups["currency"] != "USD" || r.ID != fmt.Sprintf("p%d", i) {
			t.Errorf("reading %d = %+v, want value %s", i, r, want[i])
		}
	}
}
