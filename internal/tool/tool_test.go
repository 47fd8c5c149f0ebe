package tool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPathOrder(t *testing.T) {
	if p, err := Path("anything", "/opt/x"); err != nil || p != "/opt/x" {
		t.Fatalf("override: %q %v", p, err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "revhub-tool-test")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOPATH", dir)
	if p, err := Path("revhub-tool-test", ""); err != nil || p != bin {
		t.Fatalf("GOPATH/bin: %q %v, want %s", p, err, bin)
	}
	if _, err := Path("revhub-missing-tool", ""); err == nil || !strings.Contains(err.Error(), "revhub-missing-tool not found") {
		t.Fatalf("missing: %v", err)
	}
}
