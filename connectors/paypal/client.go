// Package paypal is revhub's PayPal payment provider, hand-written over PayPal's REST API with
// go-retryablehttp: OAuth2 client credentials with a cached token renewed on 401 invalid_token,
// Orders v2 create and capture with PayPal-Request-Id set to the business key, refunds,
// Transaction Search for lookups and reconciliation, and webhook signature verification.
package paypal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// SandboxURL and LiveURL are PayPal's API hosts.
const (
	SandboxURL = "https://api-m.sandbox.paypal.com"
	LiveURL    = "https://api-m.paypal.com"
)

// Config configures a Client; the secret is never logged.
type Config struct {
	BaseURL      string        // SandboxURL, LiveURL or a fake's URL
	ClientID     string        // REST app client id
	Secret       string        // REST app secret
	WebhookID    string        // id of the webhook subscription, for signature verification
	HTTPClient   *http.Client  // optional; without it each attempt is bounded by AttemptTimeout
	RetryMax     int           // retries of 429, 5xx and network errors; default 4
	RetryWaitMin time.Duration // default 200ms; Retry-After wins when PayPal sends it
	RetryWaitMax time.Duration // default 5s
	// AttemptTimeout bounds one HTTP attempt when HTTPClient is not given (default 60s).
	AttemptTimeout time.Duration
	Logger         *slog.Logger
	// WebhookTolerance is how far a delivery's PAYPAL-TRANSMISSION-TIME may be from now (default
	// DefaultWebhookTolerance); PayPal's own verification does not check it.
	WebhookTolerance time.Duration
	// Now is the clock for the webhook tolerance (default time.Now).
	Now func() time.Time
}

// Client talks to PayPal's REST API.
type Client struct {
	cfg  Config
	http *retryablehttp.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	var errs []error
	if cfg.BaseURL == "" {
		errs = append(errs, errors.New("paypal: base_url: is required"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("paypal: client_id: is required"))
	}
	if cfg.Secret == "" {
		errs = append(errs, errors.New("paypal: secret: is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 4
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = 200 * time.Millisecond
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	rc := retryablehttp.NewClient()
	if cfg.HTTPClient != nil {
		rc.HTTPClient = cfg.HTTPClient
	} else {
		if cfg.AttemptTimeout <= 0 {
			cfg.AttemptTimeout = 60 * time.Second
		}
		rc.HTTPClient.Timeout = cfg.AttemptTimeout
	}
	rc.RetryMax = max(cfg.RetryMax, 0)
	rc.RetryWaitMin, rc.RetryWaitMax = cfg.RetryWaitMin, cfg.RetryWaitMax
	rc.Logger = nil
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler // keep the last answer to read PayPal's error
	rc.CheckRetry = retryablehttp.ErrorPropagatedRetryPolicy
	rc.Backoff = retryablehttp.DefaultBackoff // honours Retry-After on 429 and 503
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Client{cfg: cfg, http: rc}, nil
}

// accessToken returns the cached token, fetching a new one when missing or about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/v1/oauth2/token", []byte(form))
	if err != nil {
		return "", fmt.Errorf("paypal token request: %w", err)
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.Secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("paypal token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("paypal token: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("paypal token: %w", parseError(resp.StatusCode, body))
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("paypal token: unexpected answer (%d bytes)", len(body))
	}
	// Renew a minute early so a token never expires in flight.
	c.token, c.expires = tok.AccessToken, time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second-time.Minute)
	return c.token, nil
}

func (c *Client) dropToken(stale string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == stale {
		c.token = ""
	}
}

// do sends one API call with JSON in and out. A non-empty requestID is sent as PayPal-Request-Id,
// making the POST safe to retry. A 401 invalid_token renews the token and resends once.
func (c *Client) do(ctx context.Context, method, path, requestID string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if raw, ok := in.(json.RawMessage); ok {
			body = raw
		} else if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("paypal %s %s: encode: %w", method, path, err)
		}
	}
	for try := 0; ; try++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := retryablehttp.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, body)
		if err != nil {
			return fmt.Errorf("paypal %s %s: %w", method, path, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if requestID != "" {
			req.Header.Set("PayPal-Request-Id", requestID)
		}
		req.Header.Set("Prefer", "return=representation")
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("paypal %s %s: %w", method, path, err)
		}
		respBody, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("paypal %s %s: read: %w", method, path, err)
		}
		if resp.StatusCode >= 300 {
			perr := parseError(resp.StatusCode, respBody)
			if resp.StatusCode == http.StatusUnauthorized && perr.OAuthError == "invalid_token" && try == 0 {
				c.cfg.Logger.InfoContext(ctx, "paypal access token rejected, renewing", "path", path)
				c.dropToken(tok)
				continue
			}
			return fmt.Errorf("paypal %s %s: %w", method, path, perr)
		}
		if out != nil {
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("paypal %s %s: decode answer: %w", method, path, err)
			}
		}
		return nil
	}
}

// BaseURL returns the API host the client talks to.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }
