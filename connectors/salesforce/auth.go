package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// tokenResponse is the OAuth 2.0 token endpoint's answer; client credentials issue no refresh token and no expiry.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
	IssuedAt    string `json:"issued_at"`
	Signature   string `json:"signature"`
}

// Login obtains an access token with the OAuth 2.0 client-credentials flow and replaces the current session.
func (c *RESTClient) Login(ctx context.Context) error {
	_, err := c.login(ctx)
	return err
}

func (c *RESTClient) login(ctx context.Context) (*session, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
	}
	endpoint := c.cfg.LoginURL + "/services/oauth2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("salesforce login: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.StandardClient().Do(req)
	if err != nil {
		// The URL error names the endpoint only; the form (with the secret) is in the body, never in the error.
		return nil, fmt.Errorf("salesforce login: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("salesforce login: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("salesforce login: %w", parseAPIError(resp.StatusCode, body))
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("salesforce login: decode token response: %w", err)
	}
	if tr.AccessToken == "" || tr.InstanceURL == "" {
		return nil, fmt.Errorf("salesforce login: token response lacks access_token or instance_url")
	}
	if u, err := url.Parse(tr.InstanceURL); err != nil || u.Host == "" {
		return nil, fmt.Errorf("salesforce login: instance_url %q is not an absolute URL", tr.InstanceURL)
	}
	s := &session{token: tr.AccessToken, instanceURL: strings.TrimRight(tr.InstanceURL, "/")}
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	c.log.InfoContext(ctx, "salesforce login succeeded", "instance_url", tr.InstanceURL)
	return s, nil
}
