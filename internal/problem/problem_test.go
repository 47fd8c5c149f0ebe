package problem

import (
	"errors"
	"testing"
)

func TestListReportsEveryProblem(t *testing.T) {
	var l List
	if l.Err("x", "thing") != nil {
		t.Fatal("no problems must be nil")
	}
	l.Add("a.b", "must be %d", 1)
	l.Add("c", "required")
	err := l.Err("recon", "check c1")
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 2 {
		t.Fatalf("err = %v", err)
	}
	if got, want := err.Error(), "recon: invalid check c1: a.b: must be 1; c: required"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if got := (List{{Field: "f", Reason: "r"}}).Err("", "entry k").Error(); got != "invalid entry k: f: r" {
		t.Fatalf("no prefix: %q", got)
	}
}
