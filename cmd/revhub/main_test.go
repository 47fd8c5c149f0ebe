package main

import (
	"os"
	"testing"

	"github.com/revhub/revhub/internal/temporaltest"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "revhub-cmd-test-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	temporaltest.Main(m, func() { _ = os.RemoveAll(dir) })
}
