package fake

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/revhub/revhub/internal/chaos"
)

// Fault is an injected answer for the next matching requests, queued first in, first out.
type Fault struct {
	// Method and PathContains select requests ("" matches any), e.g. "GET" and "/query".
	Method       string `json:"method,omitempty"`
	PathContains string `json:"path_contains,omitempty"`
	// Status answers with this HTTP status and error array instead of serving the request (0: serve it).
	Status    int    `json:"status,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Message   string `json:"message,omitempty"`
	// RetryAfter sets the Retry-After header, in seconds.
	RetryAfter int `json:"retry_after,omitempty"`
	// DelayMillis holds the answer back; with Status 0 the request is served first,
	// so a client that times out finds the work already done when it retries.
	DelayMillis int `json:"delay_ms,omitempty"`
	// Times is how many matching requests the fault answers (default 1).
	Times int `json:"times,omitempty"`
}

// RateLimited is Salesforce's answer when the org's API request limit is exhausted.
func RateLimited() Fault {
	return Fault{Status: http.StatusForbidden, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "TotalRequests Limit exceeded."}
}

// TooManyRequests is an HTTP 429 with Retry-After, as a gateway in front of Salesforce answers.
func TooManyRequests(retryAfterSeconds int) Fault {
	return Fault{Status: http.StatusTooManyRequests, ErrorCode: "REQUEST_LIMIT_EXCEEDED", Message: "Too many requests", RetryAfter: retryAfterSeconds}
}

// ServerError is an HTTP 500 UNKNOWN_EXCEPTION.
func ServerError() Fault {
	return Fault{Status: http.StatusInternalServerError, ErrorCode: "UNKNOWN_EXCEPTION", Message: "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)"}
}

// Unavailable is an HTTP 503 SERVER_UNAVAILABLE.
func Unavailable() Fault {
	return Fault{Status: http.StatusServiceUnavailable, ErrorCode: "SERVER_UNAVAILABLE", Message: "Server is temporarily unavailable"}
}

// Slow serves the request, then holds the answer for d (longer than a client timeout simulates a lost response).
func Slow(d time.Duration) Fault { return Fault{DelayMillis: int(d / time.Millisecond)} }

// AddFaults queues faults.
func (s *Server) AddFaults(fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range fs {
		if f.Times <= 0 {
			f.Times = 1
		}
		s.faults = append(s.faults, f)
	}
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults returns the queued faults.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault(nil), s.faults...)
}

// takeFault consumes one use of the first fault matching r.
func (s *Server) takeFault(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && strings.Contains(r.URL.Path, f.PathContains) {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			} else {
				s.faults[i] = f
			}
			return f, true
		}
	}
	switch s.opts.Chaos.Roll() {
	case chaos.RateLimited:
		return TooManyRequests(1), true
	case chaos.Unavailable:
		return Unavailable(), true
	}
	return Fault{}, false
}

// serveFault answers with the fault, or serves the request and delays the answer.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Status == 0 {
		buf := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		s.serveAPI(buf, r)
		s.hold(r, f)
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
		return
	}
	s.hold(r, f)
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	s.mu.Lock()
	s.limitHeader(w)
	s.mu.Unlock()
	code, msg := f.ErrorCode, f.Message
	if code == "" {
		code, msg = "UNKNOWN_EXCEPTION", http.StatusText(f.Status)
	}
	writeErrors(w, f.Status, apiErr(code, msg))
}

// hold waits for the fault's delay or until the client goes away.
func (s *Server) hold(r *http.Request, f Fault) {
	if f.DelayMillis <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(f.DelayMillis) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// bufferedWriter keeps a response so it can be sent after a delay.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(code int)        { b.status = code }
