package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/revhub/revhub/internal/apikey"
)

// Rotation grace periods accepted by POST /v1/api-keys/{id}/rotate.
const (
	DefaultRotationGrace = 24 * time.Hour
	MaxRotationGrace     = 30 * 24 * time.Hour
)

// apiKeyRoutes manage API keys (admin only): create (the secret is answered once), list, revoke
// and rotate, each change written to the audit log with the calling key as actor.
func apiKeyRoutes(c Capabilities) []Route {
	create, list, revoke, rotate := unavailable("API keys (PostgreSQL)"), unavailable("API keys (PostgreSQL)"),
		unavailable("API keys (PostgreSQL)"), unavailable("API keys (PostgreSQL)")
	if c.Pool != nil {
		log := c.Log
		if log == nil {
			log = slog.Default()
		}
		k := keyHandlers{pool: c.Pool, log: log, now: time.Now}
		create, list, revoke, rotate = k.create, k.list, k.revoke, k.rotate
	}
	return []Route{
		{Method: "POST", Path: "/v1/api-keys", Scope: ScopeAdmin, Handler: create, MaxBody: 16 << 10,
			Summary: "Create an API key with scopes and a rate limit; the secret is in this answer only."},
		{Method: "GET", Path: "/v1/api-keys", Scope: ScopeAdmin, Handler: list,
			Summary: "List API keys (never their secrets), newest first."},
		{Method: "POST", Path: "/v1/api-keys/{id}/revoke", Scope: ScopeAdmin, Handler: revoke, MaxBody: 16 << 10,
			Summary: "Revoke an API key now (idempotent), with a reason for the audit log."},
		{Method: "POST", Path: "/v1/api-keys/{id}/rotate", Scope: ScopeAdmin, Handler: rotate, MaxBody: 16 << 10,
			Summary: "Create a replacement key; the old one keeps working for the grace period."},
	}
}

type keyHandlers struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time
}

// keyView is an API key as the API shows it: never the secret or its hash.
type keyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	RateLimit  int        `json:"rate_limit"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func viewKey(k apikey.Key) keyView {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return keyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, RateLimit: k.RateLimit,
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

// createdView is the one answer that carries a secret.
type createdView struct {
	Key    keyView `json:"key"`
	Secret string  `json:"secret"`
}

type createKeyRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	RateLimit int        `json:"rate_limit"`
	ExpiresAt *time.Time `json:"expires_at"`
	Reason    string     `json:"reason"`
}

// validate names every problem of the request at once.
func (req createKeyRequest) validate(now time.Time) error {
	var details []ErrorDetail
	add := func(field, format string, args ...any) {
		details = append(details, ErrorDetail{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(req.Name) == "" {
		add("name", "is required")
	} else if len(req.Name) > 200 {
		add("name", "must be at most 200 characters, got %d", len(req.Name))
	}
	if len(req.Scopes) == 0 {
		add("scopes", "at least one of %s is required", strings.Join(apikey.KnownScopes, ", "))
	}
	for i, s := range req.Scopes {
		if err := apikey.ValidateScopes([]apikey.Scope{s}); err != nil {
			add(fmt.Sprintf("scopes[%d]", i), "%q is not one of %s", s, strings.Join(apikey.KnownScopes, ", "))
		}
	}
	if req.RateLimit < 0 {
		add("rate_limit", "must not be negative (0 means unlimited), got %d", req.RateLimit)
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(now) {
		add("expires_at", "must be in the future, got %s", req.ExpiresAt.Format(time.RFC3339))
	}
	return invalid(details)
}

// invalid turns a list of problems of the request body into one 400 naming each, or nil.
func invalid(details []ErrorDetail) error {
	if len(details) == 0 {
		return nil
	}
	return invalidError("invalid_field", details)
}

// invalidError is one 400 for at least one problem: the first names the field (and gives the
// reason, or the count when there are more), every one is in details.
func invalidError(code string, details []ErrorDetail) *Error {
	e := Errorf(http.StatusBadRequest, code, details[0].Field, "%s", details[0].Reason)
	if len(details) > 1 {
		e.Reason = fmt.Sprintf("%d fields are invalid (see details)", len(details))
	}
	e.Details = details
	return e
}

func (h keyHandlers) create(w http.ResponseWriter, r *http.Request) {
	var req createKeyRequest
	if err := DecodeJSON(r, &req); err != nil {
		WriteError(w, err)
		return
	}
	if err := req.validate(h.now()); err != nil {
		WriteError(w, err)
		return
	}
	c, err := apikey.CreateAudited(r.Context(), h.pool, Actor(r.Context()), req.Reason, strings.TrimSpace(req.Name), req.Scopes, req.RateLimit, req.ExpiresAt)
	if err != nil {
		h.fail(r.Context(), w, "create api key", err)
		return
	}
	h.log.InfoContext(r.Context(), "api key created", "key_id", c.Key.ID, "actor", Actor(r.Context()))
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusCreated, createdView{Key: viewKey(c.Key), Secret: c.Secret})
}

func (h keyHandlers) list(w http.ResponseWriter, r *http.Request) {
	keys, err := apikey.List(r.Context(), h.pool)
	if err != nil {
		h.fail(r.Context(), w, "list api keys", err)
		return
	}
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, viewKey(k))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"keys": out})
}

type revokeKeyRequest struct {
	Reason string `json:"reason"`
}

// revoke is idempotent: revoking a revoked key answers 200 with the first revocation time.
func (h keyHandlers) revoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req revokeKeyRequest
	if err := DecodeJSON(r, &req); err != nil {
		WriteError(w, err)
		return
	}
	if strings.TrimSpace(req.Reason) == "" {
		WriteError(w, Errorf(http.StatusBadRequest, "invalid_field", "reason", "is required: say why the key is revoked, for the audit log"))
		return
	}
	k, err := apikey.RevokeAudited(r.Context(), h.pool, Actor(r.Context()), req.Reason, id, h.now())
	if err != nil {
		h.fail(r.Context(), w, "revoke api key", err)
		return
	}
	forgetCachedKey(r.Context(), id)
	h.log.InfoContext(r.Context(), "api key revoked", "key_id", id, "actor", Actor(r.Context()))
	WriteJSON(w, http.StatusOK, map[string]any{"key": viewKey(k)})
}

type rotateKeyRequest struct {
	GraceSeconds *int64 `json:"grace_seconds"`
	Reason       string `json:"reason"`
}

func (h keyHandlers) rotate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req rotateKeyRequest
	if err := DecodeJSON(r, &req); err != nil {
		WriteError(w, err)
		return
	}
	grace := DefaultRotationGrace
	var details []ErrorDetail
	if req.GraceSeconds != nil {
		grace = time.Duration(*req.GraceSeconds) * time.Second
		if *req.GraceSeconds < 0 || *req.GraceSeconds > int64(MaxRotationGrace/time.Second) {
			details = append(details, ErrorDetail{Field: "grace_seconds", Reason: fmt.Sprintf("must be from 0 to %d, got %d", int64(MaxRotationGrace/time.Second), *req.GraceSeconds)})
		}
	}
	if strings.TrimSpace(req.Reason) == "" {
		details = append(details, ErrorDetail{Field: "reason", Reason: "is required: say why the key is rotated, for the audit log"})
	}
	if err := invalid(details); err != nil {
		WriteError(w, err)
		return
	}
	now := h.now()
	c, err := apikey.RotateAudited(r.Context(), h.pool, Actor(r.Context()), req.Reason, id, now, grace)
	if err != nil {
		h.fail(r.Context(), w, "rotate api key", err)
		return
	}
	if grace == 0 {
		forgetCachedKey(r.Context(), id)
	}
	h.log.InfoContext(r.Context(), "api key rotated", "key_id", id, "new_key_id", c.Key.ID, "actor", Actor(r.Context()))
	w.Header().Set("Cache-Control", "no-store")
	WriteJSON(w, http.StatusCreated, map[string]any{"key": viewKey(c.Key), "secret": c.Secret,
		"replaces": id, "old_key_revoked_at": now.Add(grace)})
}

// fail maps key store errors to the API error shape and logs unexpected ones.
func (h keyHandlers) fail(ctx context.Context, w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, apikey.ErrNotFound):
		WriteError(w, Errorf(http.StatusNotFound, "not_found", "id", "no API key with this id"))
	case errors.Is(err, apikey.ErrNotRotatable):
		WriteError(w, Errorf(http.StatusConflict, "conflict", "id", "the key is revoked, expired or already rotated (its revocation is scheduled); rotate its replacement instead"))
	default:
		h.log.ErrorContext(ctx, what, "err", err)
		WriteError(w, err)
	}
}
