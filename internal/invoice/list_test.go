package invoice

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/dbtest"
)

func TestList(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	var ids []string
	for i := range 5 {
		d := oneOff(fmt.Sprintf("k:%d", i), "acme-us", "10.00")
		if i%2 == 1 {
			d.CustomerID = "cus_2"
		}
		ids = append(ids, mustDraft(t, pool, d).ID)
	}
	mustFinalize(t, pool, ids[0]) // due 2026-02-15
	mustFinalize(t, pool, ids[1])

	all := map[string]bool{}
	after := ""
	pages := 0
	for {
		page, next, err := List(ctx, pool, Filter{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, inv := range page {
			if all[inv.ID] {
				t.Fatalf("invoice %s on two pages", inv.ID)
			}
			all[inv.ID] = true
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(all) != 5 || pages != 3 {
		t.Fatalf("paged through %d invoices in %d pages, want 5 in 3", len(all), pages)
	}
	got, _, err := List(ctx, pool, Filter{CustomerID: "cus_2", Statuses: []Status{StatusFinalized}})
	if err != nil || len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("filtered: %v %+v", err, got)
	}
	overdue, _, err := List(ctx, pool, Filter{Statuses: []Status{StatusFinalized, StatusPartiallyPaid}, DueBefore: date("2026-02-16")})
	if err != nil || len(overdue) != 2 {
		t.Fatalf("overdue: %v %d", err, len(overdue))
	}
	if none, _, _ := List(ctx, pool, Filter{DueBefore: date("2026-02-15")}); len(none) != 0 {
		t.Fatalf("due before the due date: %d", len(none))
	}
	var re *RuleError
	if _, _, err := List(ctx, pool, Filter{Statuses: []Status{"open"}}); !errors.As(err, &re) || re.Field != "statuses[0]" {
		t.Fatalf("bad status: %v", err)
	}
	if _, _, err := List(ctx, pool, Filter{Limit: 501}); !errors.As(err, &re) || re.Field != "limit" {
		t.Fatalf("bad limit: %v", err)
	}
	if _, _, err := List(ctx, pool, Filter{After: "inv_nope"}); !errors.As(err, &re) || re.Field != "after" {
		t.Fatalf("bad cursor: %v", err)
	}

	for i, amt := range []string{"4.00", "6.00"} {
		if _, err := RecordPayment(ctx, pool, Payment{Key: fmt.Sprintf("p:%d", i), InvoiceID: ids[0], Amount: dec(amt),
			ReceivedAt: t0.Add(time.Duration(i) * time.Hour), Method: "card"}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := Payments(ctx, pool, ids[0])
	if err != nil || len(ps) != 2 || ps[0].Key != "p:0" || !ps[1].Amount.Equal(dec("6")) || ps[1].Method != "card" {
		t.Fatalf("payments: %v %+v", err, ps)
	}
}
