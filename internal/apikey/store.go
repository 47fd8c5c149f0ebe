package apikey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// ErrNotFound is returned for an id that names no key.
var ErrNotFound = errors.New("api key not found")

// ErrNotRotatable is returned when rotating a key that is revoked, expired or already rotated.
var ErrNotRotatable = errors.New("api key is revoked, expired or already rotated")

// Created is the result of Create: the full secret is returned once and never stored.
type Created struct {
	Key    Key
	Secret string
}

// Create stores a new key with the given scopes and returns its secret once.
func Create(ctx context.Context, q db.Querier, name string, scopes []Scope, rateLimit int, expiresAt *time.Time) (Created, error) {
	if name == "" {
		return Created{}, fmt.Errorf("name: must not be empty")
	}
	if err := ValidateScopes(scopes); err != nil {
		return Created{}, err
	}
	if rateLimit < 0 {
		return Created{}, fmt.Errorf("rate_limit: must not be negative, got %d", rateLimit)
	}
	full, prefix, hash, err := Generate()
	if err != nil {
		return Created{}, err
	}
	id := "key_" + prefix
	var k Key
	err = q.QueryRow(ctx, `
		INSERT INTO api_keys (id, name, prefix, secret_hash, scopes, rate_limit, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING created_at`, id, name, prefix, hash, scopes, rateLimit, expiresAt).Scan(&k.CreatedAt)
	if err != nil {
		return Created{}, fmt.Errorf("create api key: %w", err)
	}
	k.ID, k.Name, k.Prefix, k.Scopes, k.RateLimit, k.ExpiresAt, k.secretHash = id, name, prefix, scopes, rateLimit, expiresAt, hash
	return Created{Key: k, Secret: full}, nil
}

const keyColumns = `id, name, prefix, secret_hash, scopes, rate_limit, created_at, expires_at, revoked_at, last_used_at`

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.secretHash, &k.Scopes, &k.RateLimit, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt)
	return k, err
}

// Verify looks a presented key up by prefix and checks its hash, expiry and revocation.
func Verify(ctx context.Context, q db.Querier, full string, now time.Time) (Key, error) {
	prefix, err := ParsePrefix(full)
	if err != nil {
		return Key{}, err
	}
	k, err := scanKey(q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE prefix = $1`, prefix))
	if errors.Is(err, pgx.ErrNoRows) {
		Hash(full) // same work as a hit, so timing does not reveal which prefixes exist
		return Key{}, ErrInvalid
	}
	if err != nil {
		return Key{}, fmt.Errorf("look up api key: %w", err)
	}
	if !k.Matches(full) || !k.Active(now) {
		return Key{}, ErrInvalid
	}
	return k, nil
}

// Get returns one key by id, without its secret.
func Get(ctx context.Context, q db.Querier, id string) (Key, error) {
	k, err := scanKey(q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, fmt.Errorf("id: %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("get api key %s: %w", id, err)
	}
	return k, nil
}

// List returns every key, newest first, without secrets.
func List(ctx context.Context, q db.Querier) ([]Key, error) {
	rows, err := q.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Revoke marks a key revoked at `at` (now, or later for a rotation grace period); revoking twice keeps the first time.
func Revoke(ctx context.Context, q db.Querier, id string, at time.Time) error {
	tag, err := q.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, at)
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("id: %q: %w", id, ErrNotFound)
	}
	return nil
}

// Rotate creates a replacement key with the same name, scopes and limit, and revokes the old
// one after grace, so clients can switch without downtime. A key whose revocation is already
// scheduled (rotated before) is refused, so a retried rotation does not mint a second key.
// Run it in a transaction (db.InTx) so the replacement and the revocation land together.
func Rotate(ctx context.Context, q db.Querier, id string, now time.Time, grace time.Duration) (Created, error) {
	old, err := scanKey(q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Created{}, fmt.Errorf("id: %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Created{}, fmt.Errorf("rotate api key %s: %w", id, err)
	}
	if !old.Active(now) || old.RevokedAt != nil {
		return Created{}, fmt.Errorf("id: %q: %w", id, ErrNotRotatable)
	}
	c, err := Create(ctx, q, old.Name, old.Scopes, old.RateLimit, old.ExpiresAt)
	if err != nil {
		return Created{}, err
	}
	if err := Revoke(ctx, q, id, now.Add(grace)); err != nil {
		return Created{}, err
	}
	return c, nil
}

// Touch records that a key was used (best effort, at most once a minute per key).
func Touch(ctx context.Context, q db.Querier, id string, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, id, now); err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}
