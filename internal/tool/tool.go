// Package tool finds the programs revhub runs as child processes (the temporal CLI, stripe-mock),
// which scripts/setup.sh installs with `go install`.
package tool

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Path returns override when set, else name found in $PATH, else in $GOPATH/bin (default ~/go/bin).
func Path(name, override string) (string, error) {
	if override != "" {
		return override, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found in PATH or $GOPATH/bin: run scripts/setup.sh", name)
	}
	return p, nil
}
