// Package salesforce is revhub's connector to the Salesforce REST API: OAuth 2.0 client-credentials login,
// SOQL reads of closed-won deals with paging, and PATCH write-back to Opportunities.
package salesforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/simpleforce/simpleforce"
)

// DefaultAPIVersion is the REST API version the connector speaks.
const DefaultAPIVersion = "62.0"

// Client is what revhub needs from Salesforce.
type Client interface {
	// Login obtains a new access token, replacing the current one.
	Login(ctx context.Context) error
	// ClosedWonSince returns won Opportunities whose SystemModstamp is at or after since, compared to the second
	// as Salesforce does (so a poll overlaps the last one and never misses a same-second change), ordered by
	// SystemModstamp then Id, each with its Account, line items and products.
	ClosedWonSince(ctx context.Context, since time.Time) ([]Deal, error)
	// UpdateOpportunity PATCHes fields of one Opportunity; repeating the same update is harmless.
	UpdateOpportunity(ctx context.Context, id string, fields map[string]any) error
}

// Config configures the REST client.
type Config struct {
	// LoginURL is the org's My Domain URL, where the token endpoint lives (https://acme.my.salesforce.com).
	LoginURL string
	// ClientID and ClientSecret are the connected app's consumer key and secret.
	ClientID     string
	ClientSecret string
	// APIVersion such as "62.0"; default DefaultAPIVersion.
	APIVersion string
	// BatchSize asks for query pages of this many records (200..2000); 0 leaves the server default.
	BatchSize int
	// MultiCurrency says whether the org has multi-currency enabled (CurrencyIsoCode exists).
	MultiCurrency bool
	// OrgCurrency is the corporate currency, used for every deal when MultiCurrency is false.
	OrgCurrency string
	// Retry tunes the retrying HTTP client when HTTP is nil.
	Retry RetryOptions
	// HTTP is the retrying client to use; nil builds one with NewRetryingHTTPClient.
	HTTP *retryablehttp.Client
	// Logger receives connector logs; nil uses slog.Default().
	Logger *slog.Logger
}

// Validate reports every problem with the configuration at once; the secret is never echoed.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.LoginURL); c.LoginURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("salesforce config: login_url: want an absolute http(s) URL such as https://acme.my.salesforce.com"))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("salesforce config: client_id: required"))
	}
	if c.ClientSecret == "" {
		errs = append(errs, errors.New("salesforce config: client_secret: required"))
	}
	if c.BatchSize != 0 && (c.BatchSize < 200 || c.BatchSize > 2000) {
		errs = append(errs, fmt.Errorf("salesforce config: batch_size: %d is outside 200..2000", c.BatchSize))
	}
	if !c.MultiCurrency && c.OrgCurrency == "" {
		errs = append(errs, errors.New("salesforce config: org_currency: required when multi_currency is false"))
	}
	return errors.Join(errs...)
}

// RESTClient is the Client over the Salesforce REST API, built on simpleforce with a retrying http.Client.
type RESTClient struct {
	cfg  Config
	http *retryablehttp.Client
	log  *slog.Logger

	mu   sync.Mutex
	sess *session

	apiUsed, apiMax atomic.Int64
}

var _ Client = (*RESTClient)(nil)

type session struct {
	token       string
	instanceURL string
}

// New returns a REST client for cfg; it does not call Salesforce until the first request.
func New(cfg Config) (*RESTClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	cfg.APIVersion = strings.TrimPrefix(cfg.APIVersion, "v")
	cfg.LoginURL = strings.TrimRight(cfg.LoginURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rc := cfg.HTTP
	if rc == nil {
		rc = NewRetryingHTTPClient(cfg.Retry, cfg.Logger)
	}
	return &RESTClient{cfg: cfg, http: rc, log: cfg.Logger.With("connector", "salesforce")}, nil
}

// APIUsage returns the org's API usage from the last Sforce-Limit-Info header seen (0/0 before any call).
func (c *RESTClient) APIUsage() (used, limit int64) { return c.apiUsed.Load(), c.apiMax.Load() }

// currentSession returns the session, logging in when there is none.
func (c *RESTClient) currentSession(ctx context.Context) (*session, error) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return c.login(ctx)
}

// withSession runs fn with a session and, when Salesforce answers INVALID_SESSION_ID, logs in again once and repeats fn.
func (c *RESTClient) withSession(ctx context.Context, fn func(*session) error) error {
	s, err := c.currentSession(ctx)
	if err != nil {
		return err
	}
	err = fn(s)
	if !IsCode(err, CodeInvalidSession) {
		return err
	}
	c.log.InfoContext(ctx, "salesforce session expired, logging in again")
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.mu.Unlock()
	if s, err = c.currentSession(ctx); err != nil {
		return err
	}
	return fn(s)
}

// call returns a simpleforce client bound to ctx and the session, and the transport that records its exchange.
func (c *RESTClient) call(ctx context.Context, s *session, header http.Header) (*simpleforce.Client, *callTransport) {
	ct := c.transport(ctx, header)
	sf := simpleforce.NewClient(s.instanceURL, simpleforce.DefaultClientID, c.cfg.APIVersion)
	sf.SetHttpClient(&http.Client{Transport: ct})
	sf.SetSidLoc(s.token, s.instanceURL)
	return sf, ct
}

// transport returns a fresh recording transport over the retrying client, bound to ctx.
func (c *RESTClient) transport(ctx context.Context, header http.Header) *callTransport {
	return &callTransport{ctx: ctx, base: &retryablehttp.RoundTripper{Client: c.http}, header: header}
}

// noteUsage keeps the API usage of the last exchange and warns when the org is near its limit.
func (c *RESTClient) noteUsage(ctx context.Context, ex exchange) {
	if ex.apiMax <= 0 {
		return
	}
	c.apiUsed.Store(int64(ex.apiUsed))
	c.apiMax.Store(int64(ex.apiMax))
	if ex.apiUsed*10 >= ex.apiMax*9 {
		c.log.WarnContext(ctx, "salesforce org API usage is above 90%", "used", ex.apiUsed, "limit", ex.apiMax)
	}
}

// sfID matches a 15 or 18 character Salesforce record id.
var sfID = regexp.MustCompile(`^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$`)

// ValidID reports whether id looks like a Salesforce record id (15 or 18 alphanumerics).
func ValidID(id string) bool { return sfID.MatchString(id) }
