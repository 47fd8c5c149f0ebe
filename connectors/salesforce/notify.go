package salesforce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Headers of a push notification sent by a Salesforce Flow or Apex callout (docs/salesforce.md shows the Apex).
const (
	HeaderTimestamp = "X-Revhub-Timestamp"
	HeaderSignature = "X-Revhub-Signature"
)

// DefaultTolerance is how far a notification's timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Verification failures; the inbound endpoint answers 401 to each and never says which secret was tried.
var (
	ErrMissingSignature = errors.New("salesforce notification: missing " + HeaderTimestamp + " or " + HeaderSignature)
	ErrBadSignature     = errors.New("salesforce notification: signature does not match")
	ErrStale            = errors.New("salesforce notification: timestamp outside the tolerance")
	ErrReplay           = errors.New("salesforce notification: already received")
)

// Notification says that Opportunities changed; the intake reads them again, so it carries ids only.
type Notification struct {
	// ID is the sender's notification id, unique per notification.
	ID             string   `json:"notification_id"`
	OpportunityIDs []string `json:"opportunity_ids"`
}

// ReplayStore remembers notification signatures until they expire; a shared store (e.g. PostgreSQL)
// rejects replays across API instances.
type ReplayStore interface {
	// FirstSeen records key until expires and reports whether it was not recorded before.
	FirstSeen(ctx context.Context, key string, expires time.Time) (bool, error)
}

// MemoryReplayStore is a ReplayStore for one process.
type MemoryReplayStore struct {
	mu   sync.Mutex
	keys map[string]time.Time
	now  func() time.Time
}

// NewMemoryReplayStore returns an empty in-process replay store on the clock now (nil: time.Now).
func NewMemoryReplayStore(now func() time.Time) *MemoryReplayStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayStore{keys: map[string]time.Time{}, now: now}
}

// FirstSeen records key and drops expired keys.
func (s *MemoryReplayStore) FirstSeen(_ context.Context, key string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, exp := range s.keys {
		if now.After(exp) {
			delete(s.keys, k)
		}
	}
	if _, seen := s.keys[key]; seen {
		return false, nil
	}
	s.keys[key] = expires
	return true, nil
}

// Verifier checks push notifications: HMAC-SHA256 over "timestamp.body" with a shared secret,
// a timestamp within the tolerance, and no replay.
type Verifier struct {
	// Secrets are accepted shared secrets, current first; keep the previous one during a rotation.
	Secrets [][]byte
	// Tolerance bounds clock skew and delivery delay (default DefaultTolerance).
	Tolerance time.Duration
	// Replays rejects a signature seen before; nil keeps an in-process store.
	Replays ReplayStore
	// Now is the clock (default time.Now).
	Now func() time.Time

	once sync.Once
}

func (v *Verifier) init() {
	v.once.Do(func() {
		if v.Tolerance <= 0 {
			v.Tolerance = DefaultTolerance
		}
		if v.Now == nil {
			v.Now = time.Now
		}
		if v.Replays == nil {
			v.Replays = NewMemoryReplayStore(v.Now)
		}
	})
}

// Sign returns the X-Revhub-Signature value for body sent at ts: "v1=" and the hex HMAC-SHA256 of "unix.body".
func Sign(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify authenticates a notification and decodes it; every problem with the payload is named at once.
func (v *Verifier) Verify(ctx context.Context, h http.Header, body []byte) (Notification, error) {
	v.init()
	tsText, sigText := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if tsText == "" || sigText == "" {
		return Notification{}, ErrMissingSignature
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return Notification{}, fmt.Errorf("%w: %s is not unix seconds", ErrStale, HeaderTimestamp)
	}
	ts := time.Unix(unix, 0)
	now := v.Now()
	if ts.Before(now.Add(-v.Tolerance)) || ts.After(now.Add(v.Tolerance)) {
		return Notification{}, ErrStale
	}
	matched := false
	for _, part := range strings.Split(sigText, ",") {
		got := strings.TrimSpace(part)
		for _, secret := range v.Secrets {
			if len(secret) > 0 && hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
				matched = true
			}
		}
	}
	if !matched {
		return Notification{}, ErrBadSignature
	}
	// The replay key is the signed content (timestamp and body), not the header text: appending
	// parts to the signature header must not make an old delivery look new.
	signed := sha256.Sum256(append([]byte(strconv.FormatInt(unix, 10)+"."), body...))
	first, err := v.Replays.FirstSeen(ctx, "salesforce-notify:"+hex.EncodeToString(signed[:]), ts.Add(v.Tolerance))
	if err != nil {
		return Notification{}, fmt.Errorf("salesforce notification: replay check: %w", err)
	}
	if !first {
		return Notification{}, ErrReplay
	}
	var n Notification
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		return Notification{}, fmt.Errorf("salesforce notification: body: %w", err)
	}
	var problems []error
	if n.ID == "" {
		problems = append(problems, errors.New("notification_id: required"))
	}
	if len(n.OpportunityIDs) == 0 {
		problems = append(problems, errors.New("opportunity_ids: at least one id is required"))
	}
	for i, id := range n.OpportunityIDs {
		if !ValidID(id) || !strings.HasPrefix(id, "006") {
			problems = append(problems, fmt.Errorf("opportunity_ids[%d]: %q is not an Opportunity id", i, id))
		}
	}
	if len(problems) > 0 {
		return Notification{}, fmt.Errorf("salesforce notification: %w", errors.Join(problems...))
	}
	return n, nil
}
