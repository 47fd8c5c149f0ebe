package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/revhub/revhub/internal/api"
	"github.com/revhub/revhub/internal/apikey"
	"github.com/revhub/revhub/internal/codec"
	"github.com/revhub/revhub/internal/dbtest"
)

const uiOrigin = "http://localhost:8233"

func codecRequest(t *testing.T, h http.Handler, method, path string, headers map[string]string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCodecRoutes(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	ring, err := codec.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{4}, codec.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Deps{Pool: d.Pool, Routes: api.CodecRoutes(api.CodecOptions{Codec: c, AllowedOrigins: []string{uiOrigin}})}).Handler()
	admin, err := apikey.Create(ctx, d.Pool, "temporal-ui", []string{"admin"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := apikey.Create(ctx, d.Pool, "viewer", []string{"read"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := converter.GetDefaultDataConverter().ToPayload("Globex Umbrella Corporation owes 98765.43")
	encrypted, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: encrypted})

	t.Run("preflight from the UI origin needs no key", func(t *testing.T) {
		rec := codecRequest(t, h, http.MethodOptions, "/v1/codec/decode", map[string]string{
			"Origin": uiOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace,x-api-key",
		}, nil)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != uiOrigin {
			t.Errorf("Allow-Origin = %q", got)
		}
		for _, hd := range []string{"X-Namespace", "X-API-Key", "Authorization", "Content-Type"} {
			if !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), hd) {
				t.Errorf("Allow-Headers lacks %s", hd)
			}
		}
	})
	t.Run("preflight from another origin is refused", func(t *testing.T) {
		rec := codecRequest(t, h, http.MethodOptions, "/v1/codec/decode", map[string]string{"Origin": "https://evil.example"}, nil)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("status %d, allow-origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("decode without a key is unauthorized", func(t *testing.T) {
		rec := codecRequest(t, h, http.MethodPost, "/v1/codec/decode", map[string]string{"Origin": uiOrigin, "Content-Type": "application/json"}, body)
		if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "Globex") {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("decode with a read-only key is forbidden", func(t *testing.T) {
		rec := codecRequest(t, h, http.MethodPost, "/v1/codec/decode", map[string]string{"X-API-Key": reader.Secret, "Content-Type": "application/json"}, body)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("admin key decodes, with CORS, beside the UI's own Authorization header", func(t *testing.T) {
		rec := codecRequest(t, h, http.MethodPost, "/v1/codec/decode", map[string]string{
			"Origin": uiOrigin, "X-Namespace": "default", "Content-Type": "application/json",
			"X-API-Key": admin.Secret, "Authorization": "Bearer ui-oidc-access-token",
		}, body)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != uiOrigin {
			t.Error("decode answer lacks CORS headers")
		}
		var out commonpb.Payloads
		if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := converter.GetDefaultDataConverter().FromPayload(out.Payloads[0], &s); err != nil || s != "Globex Umbrella Corporation owes 98765.43" {
			t.Fatalf("decoded %q, %v", s, err)
		}
	})
	t.Run("admin key encodes", func(t *testing.T) {
		pb, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
		rec := codecRequest(t, h, http.MethodPost, "/v1/codec/encode", map[string]string{"Authorization": "Bearer " + admin.Secret}, pb)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var out commonpb.Payloads
		if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if string(out.Payloads[0].Metadata[codec.MetadataKeyID]) != "k1" {
			t.Fatalf("encoded metadata %v", out.Payloads[0].Metadata)
		}
	})
	t.Run("without a codec the routes answer 503", func(t *testing.T) {
		h := api.New(api.Deps{Pool: d.Pool, Routes: api.CodecRoutes(api.CodecOptions{})}).Handler()
		rec := codecRequest(t, h, http.MethodPost, "/v1/codec/decode", map[string]string{"X-API-Key": admin.Secret}, body)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
