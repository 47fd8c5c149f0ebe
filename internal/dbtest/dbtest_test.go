package dbtest

import (
	"context"
	"testing"
)

func TestNewGivesMigratedPrivateDatabase(t *testing.T) {
	a := New(t)
	b := New(t)
	if a.Name == b.Name {
		t.Fatalf("two tests share database %s", a.Name)
	}
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `INSERT INTO audit_log (actor, action) VALUES ('t', 'x')`); err != nil {
		t.Fatalf("insert into migrated table: %v", err)
	}
	var n int
	if err := b.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("b sees %d rows of a (err %v)", n, err)
	}
	if _, err := a.Pool.Exec(ctx, `DELETE FROM audit_log`); err == nil {
		t.Fatal("audit_log delete: want refusal")
	}
}
