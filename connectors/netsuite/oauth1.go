package netsuite

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SignatureMethod is the only OAuth 1.0a signature method NetSuite TBA accepts since 2023.1.
const SignatureMethod = "HMAC-SHA256"

// Credentials are the four token-based-authentication secrets of one integration and token.
type Credentials struct {
	ConsumerKey    string
	ConsumerSecret string
	TokenID        string
	TokenSecret    string
}

// OAuthParams are the protocol parameters of one signed request (RFC 5849 section 3.1).
type OAuthParams struct {
	Realm           string
	ConsumerKey     string
	Token           string
	Nonce           string
	Timestamp       string
	SignatureMethod string
	Version         string
	Signature       string
}

// percentEncode is RFC 5849 section 3.6 encoding: everything but ALPHA, DIGIT, '-', '.', '_', '~'.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// BaseStringURI is RFC 5849 section 3.4.1.2: lower-case scheme and host, default port dropped, no query.
func BaseStringURI(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	if port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// SignatureBaseString is RFC 5849 section 3.4.1: method, base URI and the normalized query and
// oauth_* parameters (realm and oauth_signature excluded). JSON bodies are not signed.
func SignatureBaseString(method string, u *url.URL, p OAuthParams) string {
	type kv struct{ k, v string }
	var params []kv
	for k, vs := range u.Query() {
		for _, v := range vs {
			params = append(params, kv{percentEncode(k), percentEncode(v)})
		}
	}
	for _, x := range []kv{{"oauth_consumer_key", p.ConsumerKey}, {"oauth_token", p.Token}, {"oauth_nonce", p.Nonce},
		{"oauth_timestamp", p.Timestamp}, {"oauth_signature_method", p.SignatureMethod}, {"oauth_version", p.Version}} {
		params = append(params, kv{x.k, percentEncode(x.v)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	pairs := make([]string, len(params))
	for i, x := range params {
		pairs[i] = x.k + "=" + x.v
	}
	return strings.ToUpper(method) + "&" + percentEncode(BaseStringURI(u)) + "&" + percentEncode(strings.Join(pairs, "&"))
}

// Sign returns the base64 HMAC-SHA256 of the base string keyed by consumer secret & token secret.
func Sign(baseString string, c Credentials) string {
	mac := hmac.New(sha256.New, []byte(percentEncode(c.ConsumerSecret)+"&"+percentEncode(c.TokenSecret)))
	mac.Write([]byte(baseString))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// AuthorizationHeader signs one request and returns its "OAuth realm=..., ..." header value.
func AuthorizationHeader(method string, u *url.URL, realm string, c Credentials, now time.Time) (string, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("netsuite: oauth nonce: %w", err)
	}
	p := OAuthParams{Realm: realm, ConsumerKey: c.ConsumerKey, Token: c.TokenID, Nonce: hex.EncodeToString(nonce),
		Timestamp: strconv.FormatInt(now.Unix(), 10), SignatureMethod: SignatureMethod, Version: "1.0"}
	p.Signature = Sign(SignatureBaseString(method, u, p), c)
	return FormatAuthorization(p), nil
}

// FormatAuthorization renders the parameters as an RFC 5849 section 3.5.1 Authorization header.
func FormatAuthorization(p OAuthParams) string {
	q := func(k, v string) string { return k + `="` + percentEncode(v) + `"` }
	return "OAuth " + strings.Join([]string{q("realm", p.Realm), q("oauth_consumer_key", p.ConsumerKey), q("oauth_token", p.Token),
		q("oauth_signature_method", p.SignatureMethod), q("oauth_timestamp", p.Timestamp), q("oauth_nonce", p.Nonce),
		q("oauth_version", p.Version), q("oauth_signature", p.Signature)}, ", ")
}

// ParseAuthorization reads an "OAuth k="v", ..." header (used by the fake to verify requests).
func ParseAuthorization(h string) (OAuthParams, error) {
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		return OAuthParams{}, fmt.Errorf("authorization scheme is not OAuth")
	}
	var p OAuthParams
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return OAuthParams{}, fmt.Errorf("malformed OAuth parameter %q", k)
		}
		val, err := url.PathUnescape(v[1 : len(v)-1])
		if err != nil {
			return OAuthParams{}, fmt.Errorf("OAuth parameter %s: %w", k, err)
		}
		switch k {
		case "realm":
			p.Realm = val
		case "oauth_consumer_key":
			p.ConsumerKey = val
		case "oauth_token":
			p.Token = val
		case "oauth_nonce":
			p.Nonce = val
		case "oauth_timestamp":
			p.Timestamp = val
		case "oauth_signature_method":
			p.SignatureMethod = val
		case "oauth_version":
			p.Version = val
		case "oauth_signature":
			p.Signature = val
		}
	}
	return p, nil
}

// Verify reports whether p carries a valid signature of the request for the given credentials.
func Verify(method string, u *url.URL, p OAuthParams, c Credentials) bool {
	want := Sign(SignatureBaseString(method, u, p), c)
	return hmac.Equal([]byte(want), []byte(p.Signature))
}
