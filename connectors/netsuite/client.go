package netsuite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxBody bounds one response read (a 1000-row SuiteQL page is far below it).
const maxBody = 32 << 20

// Client talks to one NetSuite account. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *retryablehttp.Client
}

// New validates cfg and returns a client whose every HTTP attempt is freshly signed (a new nonce
// per retry), limited to cfg.MaxConcurrency in flight, and retried on 429, 5xx and transport errors.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{
		Timeout:   cfg.AttemptTimeout,
		Transport: &transport{cfg: cfg, base: http.DefaultTransport, slots: make(chan struct{}, cfg.MaxConcurrency)},
	}
	rc.RetryMax = cfg.RetryMax
	rc.RetryWaitMin = cfg.RetryWaitMin
	rc.RetryWaitMax = cfg.RetryWaitMax
	rc.CheckRetry = checkRetry
	rc.Backoff = backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.Logger = cfg.Logger.With("connector", "netsuite")
	return &Client{cfg: cfg, http: rc}, nil
}

// transport signs each attempt and holds one of the client's concurrency slots while it runs.
type transport struct {
	cfg   Config
	base  http.RoundTripper
	slots chan struct{}
}

// RoundTrip waits for a slot, signs the request with a fresh nonce and timestamp, and sends it.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case t.slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	release := sync.OnceFunc(func() { <-t.slots })
	h, err := AuthorizationHeader(req.Method, req.URL, t.cfg.Realm(), t.cfg.Credentials, t.cfg.Now())
	if err != nil {
		release()
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", h)
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &slotBody{ReadCloser: resp.Body, release: release} // the request is in flight until its body is closed
	return resp, nil
}

// slotBody frees the concurrency slot when the response body is closed.
type slotBody struct {
	io.ReadCloser
	release func()
}

// Close closes the body and frees the slot.
func (b *slotBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// checkRetry retries transport errors, 429 and 5xx (not 501); it never fails on a received
// response, so the last one (with NetSuite's error body) reaches the caller.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		return true, nil
	}
	return false, nil
}

// backoff waits exponentially from waitMin with jitter in the upper half, capped at waitMax; on 429
// and 503 it waits at least what Retry-After asks (also capped at waitMax), so a "Retry-After: 0"
// storm does not turn into a busy loop.
func backoff(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
	d := waitMin << min(attempt, 30)
	if d <= 0 || d > waitMax {
		d = waitMax
	}
	d = d/2 + rand.N(d/2+1)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			d = max(d, clamp(ra, 0, waitMax))
		}
	}
	return d
}

func clamp(d, lo, hi time.Duration) time.Duration { return min(max(d, lo), hi) }

// retryAfter parses a Retry-After value in seconds or as an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// do sends one API call and returns the successful response's headers and body, or *APIError.
func (c *Client) do(ctx context.Context, method, rel string, query url.Values, body any, headers map[string]string) (http.Header, []byte, error) {
	u := c.cfg.baseURL() + rel
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("netsuite: encode %s body: %w", rel, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %s %s: %w", method, rel, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %s %s: %w", method, rel, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("netsuite: %s %s: read response: %w", method, rel, err)
	}
	if resp.StatusCode >= 300 {
		return resp.Header, b, fmt.Errorf("netsuite: %s %s: %w", method, rel, parseError(resp.StatusCode, b))
	}
	return resp.Header, b, nil
}

// idFromLocation returns the internal id at the end of a Location header.
func idFromLocation(h http.Header) string {
	loc := h.Get("Location")
	if loc == "" {
		return ""
	}
	if u, err := url.Parse(loc); err == nil {
		loc = u.Path
	}
	return path.Base(loc)
}

const recordPath = "/services/rest/record/v1/journalEntry"

// ErrInvalidExternalID means an external id holds characters NetSuite does not allow.
var ErrInvalidExternalID = errors.New("netsuite: external id may only hold letters, digits, '_' and '-'")

// UpsertJournalEntry creates or replaces the journal entry with this external id
// (PUT journalEntry/eid:{externalId}); a retry never posts twice. It returns the internal id
// when NetSuite reports it.
func (c *Client) UpsertJournalEntry(ctx context.Context, externalID string, je JournalEntry) (string, error) {
	if !ValidExternalID(externalID) {
		return "", fmt.Errorf("upsert %q: %w", externalID, ErrInvalidExternalID)
	}
	je.ExternalID, je.ID = externalID, ""
	h, _, err := c.do(ctx, http.MethodPut, recordPath+"/eid:"+externalID, nil, je, nil)
	if err != nil {
		return "", err
	}
	return idFromLocation(h), nil
}

// CreateJournalEntry posts a new journal entry (POST, 204 + Location) and returns its internal id.
// The external id is required: a retry after a lost response is then refused as a duplicate
// instead of posting twice (prefer UpsertJournalEntry).
func (c *Client) CreateJournalEntry(ctx context.Context, je JournalEntry) (string, error) {
	if !ValidExternalID(je.ExternalID) {
		return "", fmt.Errorf("create %q: %w", je.ExternalID, ErrInvalidExternalID)
	}
	je.ID = ""
	h, _, err := c.do(ctx, http.MethodPost, recordPath, nil, je, nil)
	if err != nil {
		return "", err
	}
	id := idFromLocation(h)
	if id == "" {
		return "", fmt.Errorf("netsuite: create journal entry %s: no Location header in the answer", je.ExternalID)
	}
	return id, nil
}

// ErrNotFound means NetSuite has no record with the id asked for.
var ErrNotFound = errors.New("netsuite: record not found")

// GetJournalEntryByExternalID reads a journal entry with its lines; ErrNotFound when absent.
func (c *Client) GetJournalEntryByExternalID(ctx context.Context, externalID string) (JournalEntry, error) {
	if !ValidExternalID(externalID) {
		return JournalEntry{}, fmt.Errorf("get %q: %w", externalID, ErrInvalidExternalID)
	}
	_, b, err := c.do(ctx, http.MethodGet, recordPath+"/eid:"+externalID, url.Values{"expandSubResources": {"true"}}, nil, nil)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return JournalEntry{}, fmt.Errorf("journal entry %s: %w", externalID, ErrNotFound)
	}
	if err != nil {
		return JournalEntry{}, err
	}
	var je JournalEntry
	if err := json.Unmarshal(b, &je); err != nil {
		return JournalEntry{}, fmt.Errorf("netsuite: decode journal entry %s: %w", externalID, err)
	}
	return je, nil
}

// DeleteJournalEntry removes the journal entry with this external id (DELETE journalEntry/eid:{id});
// an entry that is already gone counts as deleted, so a retry is harmless.
func (c *Client) DeleteJournalEntry(ctx context.Context, externalID string) error {
	if !ValidExternalID(externalID) {
		return fmt.Errorf("delete %q: %w", externalID, ErrInvalidExternalID)
	}
	_, _, err := c.do(ctx, http.MethodDelete, recordPath+"/eid:"+externalID, nil, nil, nil)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// API is what revhub's ERP sync needs from NetSuite; *Client implements it.
type API interface {
	UpsertJournalEntry(ctx context.Context, externalID string, je JournalEntry) (string, error)
	DeleteJournalEntry(ctx context.Context, externalID string) error
	GetJournalEntryByExternalID(ctx context.Context, externalID string) (JournalEntry, error)
	AccountingPeriods(ctx context.Context) ([]AccountingPeriod, error)
	EntryTotals(ctx context.Context, periodID string) ([]LineTotal, error)
	PeriodTotals(ctx context.Context, periodID string) ([]LineTotal, error)
}

var _ API = (*Client)(nil)
