package usage

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cloudEvent is a valid event with the attributes in extra (a JSON fragment starting with a comma)
// added at the end.
func cloudEvent(extra string) string {
	return `{"specversion":"1.0","id":"e1","source":"gw","type":"llm.tokens","subject":"cus_1","time":"2026-10-05T10:00:00Z"` + extra + `}`
}

// benchShape is a batch of n events shaped like BenchmarkDecodeBatch's.
func benchShape(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"specversion":"1.0","id":"evt-%08d","source":"gateway-eu-1","type":"llm.tokens","subject":"cus_%04d","time":"2026-10-05T10:%02d:%02dZ","datacontenttype":"application/json","data":{"tokens":%d,"model":"gpt","region":"eu"}}`, i, i%1000, i%60, i%60, i)
	}
	b.WriteByte(']')
	return b.String()
}

// sameAsReference checks that DecodeBatch and DecodeOne answer body exactly as their encoding/json
// paths do, and reports whether the scanner decoded it (rather than leaving it to encoding/json).
func sameAsReference(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		got, gotErr := DecodeBatch(body)
		want, wantErr := decodeBatchJSON(bytes.Clone(trimmed))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeBatch(%q) events\n got %#v\nwant %#v", body, got, want)
		}
		if !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("DecodeBatch(%q) error\n got %#v\nwant %#v", body, gotErr, wantErr)
		}
		_, _, fast = scanBatch(trimmed)
	}
	if len(trimmed) > 0 && trimmed[0] == '{' {
		got, gotErr := DecodeOne(body)
		want, wantErr := decodeOneJSON(bytes.Clone(trimmed))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeOne(%q) event\n got %#v\nwant %#v", body, got, want)
		}
		if !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("DecodeOne(%q) error\n got %#v\nwant %#v", body, gotErr, wantErr)
		}
		_, fast = scanOne(trimmed)
	}
	return fast
}

// scanCases are bodies with whether the scanner decodes them itself (false: encoding/json does).
var scanCases = []struct {
	name string
	body string
	fast bool
}{
	{"bench shape", benchShape(3), true},
	{"single event", cloudEvent(`,"data":{"tokens":1}`), true},
	{"whitespace everywhere", " \n[ \t{ \"specversion\" :\"1.0\" ,\r\n\"id\"\t:\t\"a\" , \"source\":\"s\",\"type\":\"t\",\"subject\":\"c\",\"time\":\"2026-10-05T10:00:00Z\",\"data\" : { \"a\" : [ 1 , 2 ] } } , null ] \n", true},
	{"unicode whitespace around the body", "\u00a0\v[" + cloudEvent("") + "]\u2028", true},
	{"escapes in attributes", `[` + cloudEvent(`,"id":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 \u2028"`) + `]`, true},
	{"escaped quote only", `[` + cloudEvent(`,"subject":"\""`) + `]`, true},
	{"lone high surrogate in id", `[` + cloudEvent(`,"id":"x\ud83d"`) + `]`, true},
	{"lone high surrogate at the end of id", `[` + cloudEvent(`,"id":"\ud83d"`) + `]`, true},
	{"low then high surrogate", `[` + cloudEvent(`,"id":"\ude00\ud83d"`) + `]`, true},
	{"high surrogate then other escape", `[` + cloudEvent(`,"id":"\ud83d\u0041"`) + `]`, true},
	{"high surrogate then short escape", `[` + cloudEvent(`,"id":"\ud83d\n"`) + `]`, true},
	{"two high surrogates", `[` + cloudEvent(`,"subject":"\ud83d\ud83d\ude00"`) + `]`, true},
	{"NUL escape in id", `[` + cloudEvent(`,"id":"x\u0000"`) + `]`, true},
	{"non-ASCII subject", `[` + cloudEvent(`,"subject":"cus_ü_😀"`) + `]`, true},
	{"literal U+FFFD in subject", `[` + cloudEvent(`,"subject":"a`+"\uFFFD"+`"`) + `]`, true},
	{"invalid UTF-8 in specversion", `[` + cloudEvent(`,"specversion":"1.`+"\xff\xfe"+`"`) + `]`, true},
	{"invalid UTF-8 in subject", `[` + cloudEvent(`,"subject":"a`+"\xed\xa0\x80"+`b"`) + `]`, true},
	{"invalid UTF-8 in time", `[` + cloudEvent(`,"time":"2026`+"\xc3"+`"`) + `]`, true},
	{"truncated UTF-8 in subject", `[` + cloudEvent(`,"subject":"a`+"\xf0\x9f\x98"+`"`) + `]`, true},
	{"escaped and invalid UTF-8 mixed", `[` + cloudEvent(`,"source":"\t`+"\x80"+`\u00e9"`) + `]`, true},
	{"long attribute", `[` + cloudEvent(`,"id":"`+strings.Repeat("x", 300)+`"`) + `]`, true},
	{"long specversion", `[` + cloudEvent(`,"specversion":"`+strings.Repeat("1", 100)+`"`) + `]`, true},
	{"nested data with numbers", `[` + cloudEvent(`,"data":{"a":[1,-0.5e+10,0,-0,1E3,2e-3,0.25,true,false,null,{"b":{},"c":[]}],"c":"}\"]","d":123456789012345678901234567890}`) + `]`, true},
	{"data with whitespace", `[` + cloudEvent(`,"data": {  "tokens" : 5 ,"m" :"x" }  `) + `]`, true},
	{"data escapes", `[` + cloudEvent(`,"data":{"m":"a\u0041\ud83d\ude00\\\"\/"}`) + `]`, true},
	{"data NUL escape", `[` + cloudEvent(`,"data":{"m":"\u0000"}`) + `]`, true},
	{"data lone surrogate", `[` + cloudEvent(`,"data":{"m":"\ud83d"}`) + `]`, true},
	{"data invalid UTF-8", `[` + cloudEvent(`,"data":{"m":"`+"\xff"+`"}`) + `]`, true},
	{"data array", `[` + cloudEvent(`,"data":[1]`) + `]`, true},
	{"data number", `[` + cloudEvent(`,"data":5`) + `]`, true},
	{"data string", `[` + cloudEvent(`,"data":"x"`) + `]`, true},
	{"data null", `[` + cloudEvent(`,"data":null`) + `]`, true},
	{"data empty object", `[` + cloudEvent(`,"data":{}`) + `]`, true},
	{"data_base64 null", `[` + cloudEvent(`,"data_base64":null`) + `]`, true},
	{"data_base64", `[` + cloudEvent(`,"data_base64":"AAEC"`) + `]`, true},
	{"data_base64 object", `[` + cloudEvent(`,"data_base64":{"a":1}`) + `]`, true},
	{"datacontenttype with parameters", `[` + cloudEvent(`,"datacontenttype":"application/json; charset=utf-8"`) + `]`, true},
	{"datacontenttype text", `[` + cloudEvent(`,"datacontenttype":"text/plain"`) + `]`, true},
	{"extensions", `[` + cloudEvent(`,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","ext":{"deep":[1,{"x":null}]},"n":-1.5e3,"b":true,"":"empty key","x-y_z":[]`) + `]`, true},
	{"extension named like a prefix", `[` + cloudEvent(`,"dat":1,"data_":2,"ids":3,"timestamp":"x"`) + `]`, true},
	{"duplicate attributes", `[` + cloudEvent(`,"id":"second","subject":"s2","data":{"a":1},"data":{"b":2}`) + `]`, true},
	{"duplicate with null", `[` + cloudEvent(`,"id":null,"data":{"a":1},"data":null,"specversion":null`) + `]`, true},
	{"null attributes", `[{"specversion":null,"id":null,"source":null,"type":null,"subject":null,"time":null,"datacontenttype":null,"data":null,"data_base64":null}]`, true},
	{"empty event", `[{}]`, true},
	{"null element", `[null,` + cloudEvent("") + `, null]`, true},
	{"empty strings", `[{"specversion":"","id":"","source":"","type":"","subject":"","time":"","datacontenttype":""}]`, true},
	{"time with offset and fraction", `[` + cloudEvent(`,"time":"2026-10-05T10:00:00.123456789+02:00"`) + `]`, true},
	{"time lower case", `[` + cloudEvent(`,"time":"2026-10-05t10:00:00z"`) + `]`, true},
	{"time invalid", `[` + cloudEvent(`,"time":"2026-13-05T10:00:00Z"`) + `]`, true},
	{"time too early", `[` + cloudEvent(`,"time":"1999-12-31T23:59:59Z"`) + `]`, true},
	{"specversion wrong", `[` + cloudEvent(`,"specversion":"0.3"`) + `]`, true},
	{"many problems", `[{"specversion":"2","id":"` + strings.Repeat("é", 200) + `","time":"yesterday","datacontenttype":"text/csv","data":[],"data_base64":"x"},` + cloudEvent("") + `,{}]`, true},

	{"key in upper case", `[` + cloudEvent(`,"ID":"upper"`) + `]`, false},
	{"key in mixed case", `[` + cloudEvent(`,"Data":{"a":1}`) + `]`, false},
	{"key with escape", `[` + cloudEvent(`,"\u0069d":"escaped"`) + `]`, false},
	{"extension key with escape", `[` + cloudEvent(`,"a\nb":1`) + `]`, false},
	{"key with Unicode fold", `[` + cloudEvent(`,"ſource":"long s"`) + `]`, false},
	{"key with Kelvin sign", `[` + cloudEvent(`,"ext\u212a":1`) + `]`, false},
	{"non-ASCII extension key", `[` + cloudEvent(`,"ünknown":1`) + `]`, false},
	{"number for id", `[` + cloudEvent(`,"id":7`) + `]`, false},
	{"object for time", `[` + cloudEvent(`,"time":{}`) + `]`, false},
	{"array for subject", `[` + cloudEvent(`,"subject":[]`) + `]`, false},
	{"boolean for specversion", `[` + cloudEvent(`,"specversion":true`) + `]`, false},
	{"mistyped attributes", `[{"specversion":1.0,"id":7,"source":true,"type":{},"subject":[],"time":0}]`, false},
	{"number element", `[7]`, false},
	{"string element", `["s"]`, false},
	{"array element", `[[]]`, false},
	{"boolean element", `[true,` + cloudEvent("") + `]`, false},
	{"empty batch", `[]`, false},
	{"empty batch with space", `[ ]`, false},
	{"leading zero in data", `[` + cloudEvent(`,"data":{"a":01}`) + `]`, false},
	{"bare minus in data", `[` + cloudEvent(`,"data":{"a":-}`) + `]`, false},
	{"fraction without digits", `[` + cloudEvent(`,"data":{"a":1.}`) + `]`, false},
	{"exponent without digits", `[` + cloudEvent(`,"data":{"a":1e+}`) + `]`, false},
	{"plus sign", `[` + cloudEvent(`,"data":{"a":+1}`) + `]`, false},
	{"trailing comma in data", `[` + cloudEvent(`,"data":{"a":1,}`) + `]`, false},
	{"trailing comma in array", `[` + cloudEvent("") + `,]`, false},
	{"trailing comma in event", `[{"id":"x",}]`, false},
	{"missing colon", `[{"id" "x"}]`, false},
	{"missing comma", `[{"id":"x" "source":"s"}]`, false},
	{"control character in string", `[` + cloudEvent(`,"id":"a`+"\t"+`b"`) + `]`, false},
	{"control character in data", `[` + cloudEvent(`,"data":{"a":"`+"\n"+`"}`) + `]`, false},
	{"bad escape", `[` + cloudEvent(`,"data":{"a":"\x"}`) + `]`, false},
	{"short unicode escape", `[` + cloudEvent(`,"id":"\u12"`) + `]`, false},
	{"single quotes", `[{'id':'x'}]`, false},
	{"bad literal", `[` + cloudEvent(`,"data":{"a":tru}`) + `]`, false},
	{"literal with suffix", `[` + cloudEvent(`,"data":{"a":nulls}`) + `]`, false},
	{"null element with suffix", `[nulll]`, false},
	{"garbage after the batch", `[` + cloudEvent("") + `] x`, false},
	{"second array", `[` + cloudEvent("") + `][]`, false},
	{"NUL byte outside strings", "[" + cloudEvent("") + "\x00]", false},
	{"unclosed array", `[` + cloudEvent(""), false},
	{"unclosed data", `[` + cloudEvent(`,"data":{"a":[1,2}`) + `]`, false},
	{"mismatched brackets", `[` + cloudEvent(`,"data":{"a":[1,2}]`) + `]`, false},
	{"object key not a string", `[` + cloudEvent(`,"data":{1:2}`) + `]`, false},
	{"deep data", `[` + cloudEvent(`,"data":`+strings.Repeat(`{"a":[`, 300)+strings.Repeat(`]}`, 300)) + `]`, false},
	{"too deep data", `[` + cloudEvent(`,"data":`+strings.Repeat(`[`, 10001)+strings.Repeat(`]`, 10001)) + `]`, false},
	{"object for a batch", cloudEvent(`,"extra":[1,"]"]`), true},
	{"single with garbage", cloudEvent("") + `{}`, false},
	{"single mistyped", cloudEvent(`,"id":1`), false},
	{"single upper-case key", cloudEvent(`,"TIME":"2026-10-05T11:00:00Z"`), false},
	{"single empty", `{}`, true},
	{"single unclosed", `{"id":"x"`, false},
}

func TestScannerMatchesEncodingJSON(t *testing.T) {
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			if fast := sameAsReference(t, []byte(c.body)); fast != c.fast {
				t.Errorf("scanner decoded it: %v, want %v", fast, c.fast)
			}
		})
	}
}

// TestScannerTruncated cuts bodies at every byte: each prefix must be answered as encoding/json
// answers it.
func TestScannerTruncated(t *testing.T) {
	for _, body := range []string{
		benchShape(2),
		`[` + cloudEvent(`,"id":"a\"\u00e9\ud83d\ude00","ext":{"a":[1.5e-3,true,null,"x"]},"data":{"m":"\ud83d\ude00","n":-0.5}`) + `]`,
		cloudEvent(`,"data":{"a":[{}]}`),
	} {
		for n := range len(body) + 1 {
			sameAsReference(t, []byte(body[:n]))
		}
	}
}

// TestScannerDecodes spells out a few results, beyond agreeing with encoding/json.
func TestScannerDecodes(t *testing.T) {
	body := `[` + cloudEvent(`,"id":"a\"\u00e9\ud83d\ude00","subject":"x","subject":null,"ext":[1],"data": {"m" : "\u0041"} `) + `,null]`
	events, err := DecodeBatch([]byte(body))
	var inv *InvalidError
	if !asInvalid(err, &inv) || len(inv.Problems) != 6 || inv.Events != 2 || inv.Problems[0].Index != 1 {
		t.Fatalf("err = %#v", err)
	}
	e := events[0]
	want := Event{ID: "a\"é😀", Source: "gw", SpecVersion: "1.0", Type: "llm.tokens", Subject: "x",
		Time: time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC), Data: []byte(`{"m" : "\u0041"}`)}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("event\n got %#v\nwant %#v", e, want)
	}
	if cap(e.Data) != len(e.Data) {
		t.Fatalf("data shares its capacity with other values: len %d cap %d", len(e.Data), cap(e.Data))
	}
}

// TestScannerDoesNotAliasTheBody checks that events stay intact when the caller reuses the body's
// buffer (the API handler pools them).
func TestScannerDoesNotAliasTheBody(t *testing.T) {
	body := []byte(benchShape(50))
	events, err := DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decodeBatchJSON(bytes.Clone(body))
	for i := range body {
		body[i] = 'x'
	}
	if !reflect.DeepEqual(events, want) {
		t.Fatal("events changed with the body")
	}
}

func TestScannerBatchLimits(t *testing.T) {
	ev := cloudEvent(`,"data":{"n":1}`)
	full := "[" + strings.Repeat(ev+",", MaxBatch-1) + ev + "]"
	if !sameAsReference(t, []byte(full)) {
		t.Errorf("a batch of MaxBatch events went to encoding/json")
	}
	over := "[" + strings.Repeat(ev+",", MaxBatch) + "null]"
	if sameAsReference(t, []byte(over)) {
		t.Errorf("a batch of more than MaxBatch events did not go to encoding/json")
	}
}

func asInvalid(err error, inv **InvalidError) bool {
	e, ok := err.(*InvalidError)
	*inv = e
	return ok
}

// FuzzDecodeDifferential checks that DecodeBatch and DecodeOne answer arbitrary bodies exactly as
// encoding/json does (events, problems and error messages).
func FuzzDecodeDifferential(f *testing.F) {
	for _, c := range scanCases {
		if len(c.body) < 4096 {
			f.Add([]byte(c.body))
		}
	}
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"s","type":"llm.tokens","subject":"c","time":"2026-10-05T10:00:00Z","data":{"usage":{"tokens":12},"model":"gpt"}}]`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"api.call","subject":"c","time":"2026-10-05T10:00:00.123+02:00","data":{"user":"u"}}`))
	f.Add([]byte(`[{"specversion":1,"id":null,"time":"x","data":[1]},7,"s",{"data_base64":"AA=="}]`))
	f.Add([]byte(`[{"specversion":"1.0","id":"\u0000","source":"s","type":"seats","subject":"c","time":"2026-10-05T10:00:00Z","data":{"n":"1e400"}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sameAsReference(t, body)
	})
}

// FuzzDecodeDifferentialParts varies parts of a valid event (an attribute's contents, an extension
// and the data), so the fuzzer spends its time inside the scanner rather than on the body's shape.
func FuzzDecodeDifferentialParts(f *testing.F) {
	f.Add(`evt-1`, `"ext":1,`, `{"tokens":12,"model":"gpt"}`)
	f.Add(`a\"\u00e9\ud83d\ude00`, `"ID":"x",`, `{"m":"\ud83d"}`)
	f.Add(`x`+"\xff", `"a":[1,{"b":null}],"data":null,`, `[1.5e3,-0,true,"\u0000"]`)
	f.Add(`\ud83d\u0041`, `"Data":{},`, `{ "a" : { } }`)
	f.Add(`t`, `"traceparent":"00-x",`, `null`)
	f.Fuzz(func(t *testing.T, id, ext, data string) {
		ev := `{"specversion":"1.0","id":"` + id + `","source":"s","type":"t","subject":"c","time":"2026-10-05T10:00:00Z",` + ext + `"data":` + data + `}`
		sameAsReference(t, []byte("["+ev+","+ev+"]"))
		sameAsReference(t, []byte(ev))
	})
}
