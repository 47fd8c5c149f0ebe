package db_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
)

func TestBrokenMigrationNamesTheFile(t *testing.T) {
	d := dbtest.NewEmpty(t)
	ctx := context.Background()
	fsys := fstest.MapFS{
		"00001_ok.sql":     {Data: []byte("-- +goose Up\nCREATE TABLE t_ok (id int);\n-- +goose Down\nDROP TABLE t_ok;\n")},
		"00002_broken.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t_broken (id int;\n-- +goose Down\nSELECT 1;\n")},
	}
	_, err := db.MigrateUp(ctx, d.URL, fsys)
	if err == nil {
		t.Fatal("broken migration: want error")
	}
	if !strings.Contains(err.Error(), "00002_broken.sql") || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("error does not name the file and the reason: %v", err)
	}
	// The good one before it stays applied; running again fails the same way and applies nothing twice.
	if _, err := d.Pool.Exec(ctx, `SELECT * FROM t_ok`); err != nil {
		t.Fatalf("00001_ok.sql not applied: %v", err)
	}
	if _, err := db.MigrateUp(ctx, d.URL, fsys); err == nil || !strings.Contains(err.Error(), "00002_broken.sql") {
		t.Fatalf("second run: %v", err)
	}
}

func TestEmbeddedMigrationsApplyAndReportStatus(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	applied, err := db.MigrateUp(ctx, d.URL, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("template is not fully migrated: %v %v", applied, err)
	}
	st, err := db.MigrateStatus(ctx, d.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) == 0 {
		t.Fatal("no migrations embedded")
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("%s not applied", s.File)
		}
	}
}
