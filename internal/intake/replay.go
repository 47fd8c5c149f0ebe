package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/revhub/revhub/connectors/salesforce"
	"github.com/revhub/revhub/internal/db"
)

// ErrReplayStore marks a failure of the replay store itself (the notification could not be checked, not refused).
var ErrReplayStore = errors.New("replay store unavailable")

// ReplayStore is a salesforce.ReplayStore in PostgreSQL, so every API instance sees every signature.
type ReplayStore struct {
	q   db.Querier
	now func() time.Time
}

var _ salesforce.ReplayStore = (*ReplayStore)(nil)

// NewReplayStore returns a replay store over q on the clock now (nil: time.Now).
func NewReplayStore(q db.Querier, now func() time.Time) *ReplayStore {
	if now == nil {
		now = time.Now
	}
	return &ReplayStore{q: q, now: now}
}

// FirstSeen records key until expires and reports whether no live record of it existed; expired keys are dropped.
func (s *ReplayStore) FirstSeen(ctx context.Context, key string, expires time.Time) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("replay store: key: required")
	}
	now := s.now()
	if _, err := s.q.Exec(ctx, `DELETE FROM crm_notification_replays WHERE expires_at < $1`, now); err != nil {
		return false, fmt.Errorf("%w: drop expired: %w", ErrReplayStore, err)
	}
	tag, err := s.q.Exec(ctx, `INSERT INTO crm_notification_replays (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, expires)
	if err != nil {
		return false, fmt.Errorf("%w: record: %w", ErrReplayStore, err)
	}
	return tag.RowsAffected() == 1, nil
}
