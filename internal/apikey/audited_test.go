package apikey_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/dbtest"
)

// A key change and its audit record land together or not at all: an audit record that cannot be
// written (no actor) leaves no key created, revoked or rotated.
func TestAuditedChangesAreAllOrNothing(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	now := time.Now()
	if _, err := apikey.CreateAudited(ctx, d.Pool, "", "why", "orphan", []apikey.Scope{"read"}, 0, nil); err == nil {
		t.Fatal("created a key without an actor")
	}
	if keys, err := apikey.List(ctx, d.Pool); err != nil || len(keys) != 0 {
		t.Fatalf("keys after a failed audited create: %+v %v", keys, err)
	}

	c, err := apikey.CreateAudited(ctx, d.Pool, "user:jane", "usage sender", "sender", []apikey.Scope{"events:write"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apikey.RevokeAudited(ctx, d.Pool, "", "leaked", c.Key.ID, now); err == nil {
		t.Fatal("revoked a key without an actor")
	}
	if _, err := apikey.RotateAudited(ctx, d.Pool, "", "routine", c.Key.ID, now, time.Hour); err == nil {
		t.Fatal("rotated a key without an actor")
	}
	for _, reason := range []string{"", "  "} {
		if _, err := apikey.RevokeAudited(ctx, d.Pool, "user:jane", reason, c.Key.ID, now); err == nil || !strings.Contains(err.Error(), "reason: required") {
			t.Fatalf("revoke with reason %q: %v", reason, err)
		}
		if _, err := apikey.RotateAudited(ctx, d.Pool, "user:jane", reason, c.Key.ID, now, time.Hour); err == nil || !strings.Contains(err.Error(), "reason: required") {
			t.Fatalf("rotate with reason %q: %v", reason, err)
		}
	}
	if keys, err := apikey.List(ctx, d.Pool); err != nil || len(keys) != 1 || keys[0].RevokedAt != nil {
		t.Fatalf("keys after failed audited revoke and rotate: %+v %v", keys, err)
	}

	k, err := apikey.RevokeAudited(ctx, d.Pool, "user:jane", "leaked", c.Key.ID, now)
	if err != nil || k.RevokedAt == nil {
		t.Fatalf("revoked key %+v, %v", k, err)
	}
	entries, err := audit.List(ctx, d.Pool, c.Key.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" by "+e.Actor+": "+e.Reason)
	}
	if want := []string{"apikey.revoke by user:jane: leaked", "apikey.create by user:jane: usage sender"}; !slices.Equal(actions, want) {
		t.Fatalf("audit of %s = %q, want its create and its revoke", c.Key.ID, actions)
	}
}
