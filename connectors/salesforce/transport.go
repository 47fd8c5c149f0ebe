package salesforce

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxBody bounds how much of one response the connector reads (a 2000-record query page is far below it).
const maxBody = 64 << 20

// RetryOptions tune the retrying HTTP client; zero values take the defaults.
type RetryOptions struct {
	// Max is the number of retries after the first attempt (default 4).
	Max int
	// WaitMin and WaitMax bound the exponential back-off between attempts (defaults 500ms and 30s).
	WaitMin, WaitMax time.Duration
	// AttemptTimeout bounds one HTTP attempt (default 60s).
	AttemptTimeout time.Duration
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.Max == 0 {
		o.Max = 4
	}
	if o.WaitMin == 0 {
		o.WaitMin = 500 * time.Millisecond
	}
	if o.WaitMax == 0 {
		o.WaitMax = 30 * time.Second
	}
	if o.AttemptTimeout == 0 {
		o.AttemptTimeout = 60 * time.Second
	}
	return o
}

// NewRetryingHTTPClient returns the retryablehttp client the connector uses: it retries transport errors,
// 429, 5xx and 403 REQUEST_LIMIT_EXCEEDED with exponential back-off (honouring Retry-After),
// and hands the last response through unchanged when retries run out.
func NewRetryingHTTPClient(opts RetryOptions, log *slog.Logger) *retryablehttp.Client {
	opts = opts.withDefaults()
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Timeout: opts.AttemptTimeout}
	rc.RetryMax = opts.Max
	rc.RetryWaitMin = opts.WaitMin
	rc.RetryWaitMax = opts.WaitMax
	rc.CheckRetry = checkRetry
	rc.Backoff = retryablehttp.DefaultBackoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	if log == nil {
		log = slog.Default()
	}
	rc.Logger = log.With("connector", "salesforce")
	return rc
}

// checkRetry decides whether one attempt is retried. It never returns an error for a received response,
// so the final response (with its Salesforce error body) reaches the caller.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	case resp.StatusCode == http.StatusForbidden:
		body, rerr := peekBody(resp)
		if rerr != nil {
			return true, nil
		}
		return parseAPIError(resp.StatusCode, body).ErrorCode == CodeRequestLimitExceeded, nil
	}
	return false, nil
}

// peekBody reads the response body and puts an identical reader back.
func peekBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}

// exchange records the final response of one logical call made through simpleforce,
// whose own decoding would turn amounts into float64 and drop the error array's fields.
type exchange struct {
	status          int
	body            []byte
	err             *APIError
	apiUsed, apiMax int
}

// callTransport binds one call's context to every request (simpleforce builds requests without one)
// and records the final response body.
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	header http.Header
	last   exchange
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.ctx)
	for k, v := range t.header {
		req.Header[k] = v
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := peekBody(resp)
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", req.Method, err)
	}
	t.last = exchange{status: resp.StatusCode, body: body}
	t.last.apiUsed, t.last.apiMax, _ = limitInfo(resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.last.err = parseAPIError(resp.StatusCode, body)
	}
	return resp, nil
}

// limitInfo parses `Sforce-Limit-Info: api-usage=used/max`.
func limitInfo(h http.Header) (used, limit int, ok bool) {
	v := h.Get("Sforce-Limit-Info")
	var u, m int
	if _, err := fmt.Sscanf(v, "api-usage=%d/%d", &u, &m); err != nil {
		return 0, 0, false
	}
	return u, m, true
}
