package api

import (
	"net/http"
	"slices"

	"github.com/revhub/revhub/internal/codec"
)

// CodecMaxBody is the request limit of the codec routes: the UI decodes whole batches of payloads.
const CodecMaxBody = 8 << 20

// CodecOptions configure the Temporal codec endpoint (the Temporal UI's "codec server").
type CodecOptions struct {
	Codec          *codec.Codec // nil: the routes are declared but answer 503
	AllowedOrigins []string     // browser origins of the Temporal UI allowed by CORS, e.g. http://localhost:8233
}

// codecCORSHeaders are the request headers the Temporal UI (or a proxy in front of it) may send.
const codecCORSHeaders = "Authorization, Content-Type, X-API-Key, X-Namespace"

// CodecRoutes serves POST /v1/codec/encode and /v1/codec/decode (admin scope) in the Temporal codec
// server protocol, and answers the browser's unauthenticated CORS preflight for the allowed origins.
func CodecRoutes(o CodecOptions) []Route {
	var h http.Handler
	if o.Codec != nil {
		h = o.Codec.HTTPHandler()
	}
	serve := func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && slices.Contains(o.AllowedOrigins, origin) {
			setCodecCORS(w, origin)
		}
		if h == nil {
			WriteError(w, Errorf(http.StatusServiceUnavailable, "unavailable", "", "the payload codec is not configured (set REVHUB_CODEC_KEYS or REVHUB_CODEC_KEYS_FILE)"))
			return
		}
		h.ServeHTTP(w, r)
	}
	preflight := func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !slices.Contains(o.AllowedOrigins, origin) {
			WriteError(w, Errorf(http.StatusForbidden, "forbidden", "Origin", "origin %q is not an allowed Temporal UI origin", origin))
			return
		}
		setCodecCORS(w, origin)
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	}
	var out []Route
	for _, op := range []struct{ name, summary string }{
		{"encode", "Temporal codec server: encrypt payloads with the active key."},
		{"decode", "Temporal codec server: decrypt payloads for the Temporal UI or CLI."},
	} {
		path := "/v1/codec/" + op.name
		out = append(out,
			Route{Method: http.MethodPost, Path: path, Scope: ScopeAdmin, MaxBody: CodecMaxBody, Handler: serve, Summary: op.summary},
			Route{Method: http.MethodOptions, Path: path, Scope: ScopePublic, Handler: preflight,
				Summary: "CORS preflight of the codec " + op.name + " route from the Temporal UI's origin."},
		)
	}
	return out
}

func setCodecCORS(w http.ResponseWriter, origin string) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Set("Access-Control-Allow-Credentials", "true")
	hd.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", codecCORSHeaders)
	hd.Add("Vary", "Origin")
}
