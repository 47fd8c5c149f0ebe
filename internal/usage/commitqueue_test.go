package usage

import (
	"context"
	"errors"
	"testing"
)

func queued(n int) *batch { return &batch{preps: make([]prepared, n), done: make(chan error, 1)} }

func TestCommitQueueGroups(t *testing.T) {
	q := newCommitQueue()
	take := func(want ...*batch) {
		t.Helper()
		got, done := q.take(100)
		if done || len(got) != len(want) {
			t.Fatalf("took %d batches (done %v), want %d", len(got), done, len(want))
		}
		for i := range want {
			if got[i] != want[i] || got[i].state != batchTaken {
				t.Fatalf("batch %d is not the queued one or not taken", i)
			}
		}
	}
	a, b, c, d := queued(30), queued(30), queued(30), queued(60)
	for _, x := range []*batch{a, b, c, d} {
		if err := q.push(x); err != nil {
			t.Fatal(err)
		}
	}
	take(a, b, c) // d would pass the cap
	take(d)       // a lone batch of half a group or more goes even while a committer is busy
	// While a committer is busy, a lone small batch waits for company.
	e, f := queued(10), queued(10)
	_ = q.push(e)
	take()
	_ = q.push(f)
	take(e, f)
	q.finished()
	q.finished()
	q.finished()
	// With no committer busy, a lone batch goes at once.
	g := queued(1)
	_ = q.push(g)
	take(g)
	q.finished()
	// A withdrawn batch is never taken; a closed queue drains and then reports done.
	h, i := queued(1), queued(1)
	_ = q.push(h)
	_ = q.push(i)
	if !q.withdraw(h) || q.withdraw(h) {
		t.Fatal("withdraw")
	}
	q.close()
	if err := q.push(queued(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("push after close: %v", err)
	}
	take(i)
	if q.withdraw(i) {
		t.Fatal("withdrew a taken batch")
	}
	if _, done := q.take(100); !done {
		t.Fatal("closed and empty queue is not done")
	}
}

func TestHookContextKeepsValuesNotCancellation(t *testing.T) {
	type key struct{}
	caller, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	cancel()
	tx, txCancel := context.WithTimeout(context.Background(), commitTimeout)
	defer txCancel()
	ctx, done := hookContext(caller, tx)
	defer done()
	if ctx.Err() != nil || ctx.Value(key{}) != "v" {
		t.Fatalf("err %v, value %v", ctx.Err(), ctx.Value(key{}))
	}
	if d1, _ := ctx.Deadline(); d1.IsZero() {
		t.Fatal("no deadline")
	}
}
