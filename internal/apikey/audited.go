package apikey

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/audit"
	"github.com/revhub/revhub/internal/db"
)

// The changes of a key as operators make them (API and CLI): each with its audit record in one
// transaction of q, so there is never a key change without its record or a record without its change.

// CreateAudited creates a key (as Create) and records who created it and why.
func CreateAudited(ctx context.Context, q db.Querier, actor, reason, name string, scopes []Scope, rateLimit int, expiresAt *time.Time) (Created, error) {
	var c Created
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		var err error
		if c, err = Create(ctx, tx, name, scopes, rateLimit, expiresAt); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, actor, "apikey.create", c.Key.ID, reason,
			map[string]any{"name": c.Key.Name, "scopes": c.Key.Scopes, "rate_limit": c.Key.RateLimit, "expires_at": c.Key.ExpiresAt})
		return err
	})
	return c, err
}

// RevokeAudited revokes key id at at (as Revoke), records who revoked it and why (required), and
// returns the key as revoked.
func RevokeAudited(ctx context.Context, q db.Querier, actor, reason, id string, at time.Time) (Key, error) {
	var k Key
	if strings.TrimSpace(reason) == "" {
		return k, errors.New("reason: required, say why the key is revoked")
	}
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		if err := Revoke(ctx, tx, id, at); err != nil {
			return err
		}
		if _, err := audit.Record(ctx, tx, actor, "apikey.revoke", id, reason, nil); err != nil {
			return err
		}
		var err error
		k, err = Get(ctx, tx, id)
		return err
	})
	return k, err
}

// RotateAudited rotates key id (as Rotate) and records who rotated it, why (required), its
// replacement and when the old key stops working.
func RotateAudited(ctx context.Context, q db.Querier, actor, reason, id string, now time.Time, grace time.Duration) (Created, error) {
	var c Created
	if strings.TrimSpace(reason) == "" {
		return c, errors.New("reason: required, say why the key is rotated")
	}
	err := db.InTx(ctx, q, func(tx pgx.Tx) error {
		var err error
		if c, err = Rotate(ctx, tx, id, now, grace); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, actor, "apikey.rotate", id, reason,
			map[string]any{"new_key": c.Key.ID, "grace_seconds": int64(grace / time.Second), "old_key_revoked_at": now.Add(grace)})
		return err
	})
	return c, err
}
