package fake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// orgID and userID are the fake org's ids, as they appear in the token response's identity URL.
const (
	orgID  = "00D5g00000FakeOrg"
	userID = "0055g00000FakeUsr"
)

type sessionState struct {
	calls    int
	lastUsed time.Time
}

// token serves POST /services/oauth2/token for the client-credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r.Method, "POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "malformed request body"})
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "missing grant type"})
		return
	case "client_credentials":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant type not supported"})
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "authentication failure"})
		return
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	tok := orgID[:15] + "!" + base64.RawURLEncoding.EncodeToString(raw)
	now := s.opts.Now()
	s.mu.Lock()
	s.sessions[tok] = &sessionState{lastUsed: now}
	s.tokens++
	s.mu.Unlock()

	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	identity := scheme + "://" + r.Host + "/id/" + orgID + "/" + userID
	issued := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(s.opts.ClientSecret))
	mac.Write([]byte(identity + issued))
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": tok,
		"instance_url": scheme + "://" + r.Host,
		"id":           identity,
		"token_type":   "Bearer",
		"issued_at":    issued,
		"signature":    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"scope":        "api",
	})
}

// authorize checks the bearer session and the org API limit, counts the call and sets Sforce-Limit-Info.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[tok]
	now := s.opts.Now()
	expired := sess == nil ||
		(s.opts.SessionCalls > 0 && sess.calls >= s.opts.SessionCalls) ||
		(s.opts.SessionTimeout > 0 && now.Sub(sess.lastUsed) > s.opts.SessionTimeout)
	if !ok || expired {
		if sess != nil {
			delete(s.sessions, tok)
		}
		writeErrors(w, http.StatusUnauthorized, apiErr("INVALID_SESSION_ID", "Session expired or invalid"))
		return false
	}
	sess.calls++
	sess.lastUsed = now
	s.apiUsed++
	s.limitHeader(w)
	if s.apiUsed > s.apiLimit {
		writeErrors(w, http.StatusForbidden, apiErr("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
		return false
	}
	return true
}

// ExpireSessions invalidates every access token, as an org-wide logout or session timeout would.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

// TokensIssued returns how many access tokens the token endpoint has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// SetAPIUsage sets the org's API usage counter and daily limit (limit <= 0 keeps the current limit).
func (s *Server) SetAPIUsage(used, limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiUsed = used
	if limit > 0 {
		s.apiLimit = limit
	}
}

// newLocator returns a query locator id in Salesforce's 01g format.
func newLocator() string {
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	return "01g" + strings.ToUpper(hex.EncodeToString(raw))[:12]
}
