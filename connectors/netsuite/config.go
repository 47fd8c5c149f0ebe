// Package netsuite is revhub's hand-written client for NetSuite's SuiteTalk REST record API and
// SuiteQL: OAuth 1.0a token-based authentication (HMAC-SHA256 with the account realm), journal
// entries upserted by external id, SuiteQL reads with paging, NetSuite's error shape, and a
// client-side cap below the account's concurrency limit with back-off on 429.
package netsuite

import (
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config configures a Client; the secrets never appear in logs or errors.
type Config struct {
	AccountID string // "1234567", or a sandbox "1234567-sb1" / "1234567_SB1"
	BaseURL   string // default https://<account>.suitetalk.api.netsuite.com; set for the fake
	Credentials
	MaxConcurrency int           // in-flight requests; default 5, keep below the account limit (15 + 10 per SuiteCloud Plus)
	RetryMax       int           // retries after the first attempt for 429, 5xx and transport errors; default 8
	RetryWaitMin   time.Duration // default 500ms
	RetryWaitMax   time.Duration // longest wait, also caps Retry-After; default 60s
	AttemptTimeout time.Duration // one HTTP attempt; default 5m (NetSuite times requests out at 15m)
	PageSize       int           // SuiteQL rows per page in SuiteQLAll; default and maximum 1000
	Logger         *slog.Logger  // default slog.Default()
	Now            func() time.Time
}

var accountPattern = regexp.MustCompile(`^[0-9A-Za-z]+([_-][0-9A-Za-z]+)?$`)

// Validate reports every missing or malformed setting at once, naming the setting.
func (c Config) Validate() error {
	var probs []string
	if !accountPattern.MatchString(c.AccountID) {
		probs = append(probs, fmt.Sprintf("account_id: %q is not a NetSuite account id such as 1234567 or 1234567-sb1", c.AccountID))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
			probs = append(probs, "base_url: not an absolute URL")
		}
	}
	for _, f := range []struct{ name, v string }{{"consumer_key", c.ConsumerKey}, {"consumer_secret", c.ConsumerSecret},
		{"token_id", c.TokenID}, {"token_secret", c.TokenSecret}} {
		if f.v == "" {
			probs = append(probs, f.name+": is required")
		}
	}
	if c.MaxConcurrency < 0 || c.RetryMax < 0 {
		probs = append(probs, "max_concurrency and retry_max: must not be negative")
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		probs = append(probs, fmt.Sprintf("page_size: must be 1-%d", MaxPageSize))
	}
	if len(probs) > 0 {
		return fmt.Errorf("netsuite config: %s", strings.Join(probs, "; "))
	}
	return nil
}

// Realm is the OAuth realm: the account id upper-cased with '_' ("1234567_SB1").
func (c Config) Realm() string { return strings.ToUpper(strings.ReplaceAll(c.AccountID, "-", "_")) }

// host is the account's REST host label: lower-cased with '-' ("1234567-sb1").
func (c Config) host() string { return strings.ToLower(strings.ReplaceAll(c.AccountID, "_", "-")) }

// baseURL returns the configured or the production base URL without a trailing slash.
func (c Config) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "https://" + c.host() + ".suitetalk.api.netsuite.com"
}

// LogValue shows the account and endpoint, never the credentials.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account_id", c.AccountID), slog.String("base_url", c.baseURL()),
		slog.Int("max_concurrency", c.MaxConcurrency))
}

// String is LogValue's text, so printing a Config cannot leak a secret.
func (c Config) String() string { return c.LogValue().String() }

func (c Config) withDefaults() Config {
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = 5
	}
	if c.RetryMax == 0 {
		c.RetryMax = 8
	}
	if c.RetryWaitMin == 0 {
		c.RetryWaitMin = 500 * time.Millisecond
	}
	if c.RetryWaitMax == 0 {
		c.RetryWaitMax = 60 * time.Second
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = 5 * time.Minute
	}
	if c.PageSize == 0 {
		c.PageSize = MaxPageSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
