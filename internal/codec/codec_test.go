package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type invoiceInput struct {
	Customer string          `json:"customer"`
	Amount   decimal.Decimal `json:"amount"`
}

func newCodec(t *testing.T, spec string) *Codec {
	t.Helper()
	k, err := ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func specOf(id string, fill byte) string {
	_, b64 := testKey(fill)
	return id + ":" + b64
}

func TestRoundTripHidesPlainText(t *testing.T) {
	c := newCodec(t, specOf("k1", 1))
	dc := NewDataConverter(c)
	in := invoiceInput{Customer: "Globex Umbrella Corporation", Amount: decimal.RequireFromString("98765.43")}
	ps, err := dc.ToPayloads(in)
	if err != nil {
		t.Fatal(err)
	}
	p := ps.Payloads[0]
	if got := string(p.Metadata[MetadataEncoding]); got != EncodingEncrypted {
		t.Errorf("encoding = %q, want %q", got, EncodingEncrypted)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Errorf("key id = %q, want k1", got)
	}
	wire, _ := proto.Marshal(ps)
	for _, secret := range []string{"Globex", "98765.43", "json/plain"} {
		if bytes.Contains(wire, []byte(secret)) {
			t.Errorf("encrypted payload shows %q", secret)
		}
	}
	var out invoiceInput
	if err := dc.FromPayloads(ps, &out); err != nil {
		t.Fatal(err)
	}
	if out.Customer != in.Customer || !out.Amount.Equal(in.Amount) {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestNonceIsRandom(t *testing.T) {
	c := newCodec(t, specOf("k1", 1))
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"same"`)}
	a, err := c.Encode([]*commonpb.Payload{p, p})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[0].Data, a[1].Data) {
		t.Fatal("the same plaintext encrypted twice gave the same ciphertext")
	}
}

func TestTamperDetection(t *testing.T) {
	c := newCodec(t, specOf("k1", 1)+","+specOf("k2", 2))
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"amount":"10.00"}`)}
	enc, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	tamper := map[string]func(p *commonpb.Payload){
		"flipped ciphertext bit": func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 0x01 },
		"flipped nonce bit":      func(p *commonpb.Payload) { p.Data[0] ^= 0x80 },
		"truncated tag":          func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] },
		"too short":              func(p *commonpb.Payload) { p.Data = p.Data[:8] },
		"key id swapped":         func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k2") },
	}
	for name, mutate := range tamper {
		t.Run(name, func(t *testing.T) {
			p := &commonpb.Payload{Metadata: map[string][]byte{}, Data: append([]byte(nil), enc[0].Data...)}
			for k, v := range enc[0].Metadata {
				p.Metadata[k] = append([]byte(nil), v...)
			}
			mutate(p)
			_, err := c.Decode([]*commonpb.Payload{p})
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("err = %v, want ErrTampered", err)
			}
		})
	}
}

func TestUnknownKeyIDNamed(t *testing.T) {
	old := newCodec(t, specOf("2026-10", 9))
	enc, err := old.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, specOf("2026-11", 1))
	_, err = c.Decode(enc)
	var uk *UnknownKeyError
	if !errors.As(err, &uk) || uk.ID != "2026-10" {
		t.Fatalf("err = %v, want UnknownKeyError for 2026-10", err)
	}
	if !strings.Contains(err.Error(), `unknown encryption key id "2026-10"`) || !strings.Contains(err.Error(), "2026-11") {
		t.Errorf("error %q should name the unknown and the known ids", err)
	}
	_, b64 := testKey(1)
	if strings.Contains(err.Error(), b64) {
		t.Error("error contains key material")
	}
}

func TestRotation(t *testing.T) {
	before := newCodec(t, specOf("k1", 1))
	after := newCodec(t, specOf("k2", 2)+","+specOf("k1", 1))
	dcBefore, dcAfter := NewDataConverter(before), NewDataConverter(after)

	oldPs, err := dcBefore.ToPayloads("written before rotation")
	if err != nil {
		t.Fatal(err)
	}
	newPs, err := dcAfter.ToPayloads("written after rotation")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(newPs.Payloads[0].Metadata[MetadataKeyID]); got != "k2" {
		t.Fatalf("new payloads use key %q, want the active k2", got)
	}
	var s string
	if err := dcAfter.FromPayloads(oldPs, &s); err != nil || s != "written before rotation" {
		t.Fatalf("old payload after rotation: %q, %v", s, err)
	}
	if err := dcAfter.FromPayloads(newPs, &s); err != nil || s != "written after rotation" {
		t.Fatalf("new payload: %q, %v", s, err)
	}
	// A process that has not been given the new key yet cannot read, and says which key it lacks.
	var uk *UnknownKeyError
	if err := dcBefore.FromPayloads(newPs, &s); !errors.As(err, &uk) || uk.ID != "k2" {
		t.Fatalf("old process reading new payload: %v", err)
	}
}

func TestDecodePassesPlainPayloadsThrough(t *testing.T) {
	c := newCodec(t, specOf("k1", 1))
	plain, err := converter.GetDefaultDataConverter().ToPayload("from before the codec")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Fatalf("plain payload: %v, %v", out, err)
	}
}

func TestFailureConverterEncryptsMessages(t *testing.T) {
	c := newCodec(t, specOf("k1", 1))
	fc := NewFailureConverter(c)
	f := fc.ErrorToFailure(errors.New("card declined for Globex Umbrella Corporation"))
	wire, _ := proto.Marshal(f)
	if bytes.Contains(wire, []byte("Globex")) {
		t.Fatalf("failure shows the customer: %s", wire)
	}
	back := fc.FailureToError(f)
	if !strings.Contains(back.Error(), "Globex Umbrella Corporation") {
		t.Fatalf("decoded failure = %v", back)
	}
}

// TestHTTPHandler speaks the Temporal UI's codec server protocol to the handler.
func TestHTTPHandler(t *testing.T) {
	c := newCodec(t, specOf("k1", 1))
	srv := httptest.NewServer(c.HTTPHandler())
	defer srv.Close()

	plain, _ := converter.GetDefaultDataConverter().ToPayload("Globex 98765.43")
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
	post := func(path string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		return res.StatusCode, buf.Bytes()
	}
	code, encoded := post("/v1/codec/encode", body)
	if code != http.StatusOK {
		t.Fatalf("encode: %d %s", code, encoded)
	}
	var shape struct {
		Payloads []struct {
			Metadata map[string]string `json:"metadata"`
			Data     string            `json:"data"`
		} `json:"payloads"`
	}
	if err := json.Unmarshal(encoded, &shape); err != nil || len(shape.Payloads) != 1 {
		t.Fatalf("encode answer %s: %v", encoded, err)
	}
	if enc, _ := base64.StdEncoding.DecodeString(shape.Payloads[0].Metadata[MetadataEncoding]); string(enc) != EncodingEncrypted {
		t.Fatalf("encoded metadata = %v", shape.Payloads[0].Metadata)
	}
	if data, _ := base64.StdEncoding.DecodeString(shape.Payloads[0].Data); len(data) == 0 || bytes.Contains(data, []byte("Globex")) {
		t.Fatalf("encoded data %q is empty or plain", data)
	}
	code, decoded := post("/v1/codec/decode", encoded)
	if code != http.StatusOK {
		t.Fatalf("decode: %d %s", code, decoded)
	}
	var back commonpb.Payloads
	if err := protojson.Unmarshal(decoded, &back); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(back.Payloads[0], &s); err != nil || s != "Globex 98765.43" {
		t.Fatalf("decoded %q, %v", s, err)
	}
	other := newCodec(t, specOf("k9", 9))
	foreign, _ := other.Encode([]*commonpb.Payload{plain})
	fb, _ := protojson.Marshal(&commonpb.Payloads{Payloads: foreign})
	if code, msg := post("/v1/codec/decode", fb); code != http.StatusBadRequest || !strings.Contains(string(msg), `"k9"`) {
		t.Fatalf("unknown key: %d %s", code, msg)
	}
}
