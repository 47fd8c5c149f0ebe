package notice

import (
	"context"
	"testing"

	"github.com/revhub/revhub/internal/dbtest"
)

func TestRaiseOnce(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	first, err := Raise(ctx, d.Pool, "invoice:inv_1", "uncollectible", "", "invoice inv_1 is uncollectible")
	if err != nil || !first {
		t.Fatalf("first raise: %v %v", first, err)
	}
	again, err := Raise(ctx, d.Pool, "invoice:inv_1", "uncollectible", "", "invoice inv_1 is uncollectible")
	if err != nil || again {
		t.Fatalf("retried raise must be a no-op: %v %v", again, err)
	}
	if _, err := Raise(ctx, d.Pool, "invoice:inv_1", "payment_reminder", "1", "reminder 1"); err != nil {
		t.Fatal(err)
	}
	open, err := Open(ctx, d.Pool, "", 0)
	if err != nil || len(open) != 2 {
		t.Fatalf("open = %v, %v", open, err)
	}
	if _, err := Raise(ctx, d.Pool, "", "x", "", ""); err == nil {
		t.Fatal("empty subject accepted")
	}
}
