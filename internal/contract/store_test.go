package contract

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/revhub/revhub/internal/dbtest"
)

func hybrid(t *testing.T) Version {
	t.Helper()
	data, err := os.ReadFile("testdata/hybrid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseVersion(data, YAML)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStoreCreateAmendIdempotent(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	v1 := hybrid(t)

	created, err := Create(ctx, d.Pool, v1)
	if err != nil || !created {
		t.Fatalf("create: %v created=%v", err, created)
	}
	// Already done: the same document again is a no-op.
	created, err = Create(ctx, d.Pool, v1)
	if err != nil || created {
		t.Fatalf("create retry: %v created=%v", err, created)
	}
	// The same id and version with other terms is a conflict, not an overwrite.
	changed := v1
	changed.BillingEntity = "revhub-eu"
	if _, err := Create(ctx, d.Pool, changed); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("create conflicting: %v", err)
	}
	other := v1
	other.Customer.ExternalID = "cus_other"
	if _, err := Create(ctx, d.Pool, other); !errors.Is(err, ErrVersionConflict) || !strings.Contains(err.Error(), "belongs to customer cus_acme") {
		t.Fatalf("create for another customer: %v", err)
	}

	v2 := v1
	v2.Version, v2.EffectiveFrom = 2, MustDate("2026-04-01")
	v2.Components = append([]Component(nil), v1.Components...)
	v2.Components[0].Price.Amount = v1.Components[0].Price.Amount.Add(v1.Components[0].Price.Amount)
	if _, err := Amend(ctx, d.Pool, v2, MustDate("2026-05-01")); err == nil || !strings.Contains(err.Error(), "never rewrites invoiced periods") {
		t.Fatalf("amend into the invoiced past: %v", err)
	}
	created, err = Amend(ctx, d.Pool, v2, MustDate("2026-04-01"))
	if err != nil || !created {
		t.Fatalf("amend: %v created=%v", err, created)
	}
	created, err = Amend(ctx, d.Pool, v2, MustDate("2026-04-01"))
	if err != nil || created {
		t.Fatalf("amend retry: %v created=%v", err, created)
	}
	v2b := v2
	v2b.PaymentProvider = ProviderBank
	if _, err := Amend(ctx, d.Pool, v2b, MustDate("2026-04-01")); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("amend conflicting: %v", err)
	}

	c, err := Get(ctx, d.Pool, v1.ContractID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Versions) != 2 || c.Versions[1].EffectiveFrom != MustDate("2026-04-01") {
		t.Fatalf("get: %+v", c.Versions)
	}
	if same, _ := sameDocument(c.Versions[0], v1); !same {
		t.Fatal("stored document differs from the one saved")
	}
	if _, err := Get(ctx, d.Pool, "ctr_missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	list, err := ListByCustomer(ctx, d.Pool, "cus_acme")
	if err != nil || len(list) != 1 || len(list[0].Versions) != 2 {
		t.Fatalf("list: %v %+v", err, list)
	}
	active, err := ActiveOn(ctx, d.Pool, MustDate("2026-06-01"))
	if err != nil || len(active) != 1 {
		t.Fatalf("active on 2026-06-01: %v %d", err, len(active))
	}
	if active, _ := ActiveOn(ctx, d.Pool, MustDate("2027-01-01")); len(active) != 0 {
		t.Fatalf("active after the end: %d", len(active))
	}

	var provider, currency string
	if err := d.Pool.QueryRow(ctx, `SELECT payment_provider, currency FROM contract_versions WHERE contract_id = $1 AND version = 2`, v1.ContractID).Scan(&provider, &currency); err != nil {
		t.Fatal(err)
	}
	if provider != "stripe" || currency != "USD" {
		t.Fatalf("columns: %s %s", provider, currency)
	}
	if _, err := d.Pool.Exec(ctx, `UPDATE contract_versions SET status = 'ended' WHERE contract_id = $1`, v1.ContractID); err == nil {
		t.Fatal("contract versions must be append-only")
	}
}

func TestStoreRefusesInvalidContract(t *testing.T) {
	d := dbtest.New(t)
	v := hybrid(t)
	v.Currency = "XXX"
	_, err := Create(context.Background(), d.Pool, v)
	var ps Problems
	if !errors.As(err, &ps) || ps[0].Path != "currency" {
		t.Fatalf("want a currency problem, got %v", err)
	}
}
