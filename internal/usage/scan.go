package usage

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The scanner is the fast path of DecodeBatch and DecodeOne: one pass over the body, without
// encoding/json and, unless an attribute holds escapes or invalid UTF-8, without an allocation
// per event. It decodes only what it decodes exactly as encoding/json would, and gives up (ok
// false) on everything else, whose answer then comes from the encoding/json path, the reference
// for every result and error message:
//   - malformed JSON anywhere, nesting deeper than maxScanDepth;
//   - an attribute of the wrong JSON kind (a number for id, ...) or an array element that is
//     neither an object nor null;
//   - an object key with an escape, a non-ASCII byte, or that names an attribute only when
//     compared case-insensitively ("ID", "Data");
//   - an empty batch or one of more than MaxBatch events.
//
// Like encoding/json it keeps the last of duplicate attributes (null leaves a string attribute
// unchanged), replaces invalid UTF-8 and lone surrogate escapes in attribute strings with
// U+FFFD, keeps data's raw bytes, and validates every value it skips (extensions, data).

// maxScanDepth is the deepest nesting the scanner follows inside an event; deeper bodies go to
// encoding/json (which refuses nesting beyond 10,000).
const maxScanDepth = 512

// arenaChunk is the size of the blocks the scanner copies attribute strings and data values into
// (smaller for a smaller body).
const arenaChunk = 32 << 10

// nullData is data's raw value when data is null.
var nullData = json.RawMessage("null")

// attrNames are the attributes of wireEvent, which encoding/json also matches case-insensitively;
// the first stringAttrs of them are its string attributes, in the order of scanner.last.
var attrNames = [...]string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data", "data_base64"}

const stringAttrs = 7

// Byte classes of the scanner.
const (
	clsPlain = 1 << iota // may appear unescaped in a string without further checks: ASCII 0x20-0x7e but '"' and '\\'
	clsSpace             // JSON whitespace
	clsDigit             // 0-9
)

var classes = func() (t [256]uint8) {
	for c := 0x20; c < 0x7f; c++ {
		if c != '"' && c != '\\' {
			t[c] |= clsPlain
		}
	}
	for _, c := range " \t\r\n" {
		t[c] |= clsSpace
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= clsDigit
	}
	return t
}()

// String flags the scanner reports.
const (
	strEscaped = 1 << iota // holds a backslash escape
	strHigh                // holds a byte >= 0x80
)

// scanner walks one body; positions are indexes into b, -1 once it gave up. The decoded events
// share a few blocks of memory and never alias the body, which the caller may reuse.
type scanner struct {
	b    []byte              // the body
	strs strings.Builder     // a block holding attribute strings; a full one is replaced, never grown
	data []byte              // a block holding data values, handed out as capped subslices
	last [stringAttrs]string // each string attribute of the previous event, reused when it repeats
}

// scanBatch decodes a JSON array of CloudEvents (body[0] is '['), converting each event as
// DecodeBatch does. ok false means the body must go to encoding/json.
func scanBatch(body []byte) (events []Event, probs []Problem, ok bool) {
	sc := scanner{b: body}
	i := sc.space(1)
	for {
		var w wireEvent
		start := i
		switch sc.at(i) {
		case '{':
			i = sc.object(i, &w)
		case 'n':
			i = sc.literal(i, "null") // a null element decodes to an event without attributes
		default:
			return nil, nil, false // empty batch, an element of the wrong kind, malformed JSON
		}
		if i < 0 || len(events) == MaxBatch {
			return nil, nil, false
		}
		if events == nil {
			events = make([]Event, 0, estimateEvents(len(body), i-start+1))
		}
		events = append(events, Event{})
		probs = convert(len(events)-1, &w, &events[len(events)-1], probs)
		i = sc.space(i)
		switch sc.at(i) {
		case ',':
			i = sc.space(i + 1)
		case ']':
			if sc.space(i+1) != len(body) {
				return nil, nil, false
			}
			return events, probs, true
		default:
			return nil, nil, false
		}
	}
}

// estimateEvents guesses the number of events of a batch from the size of its first one.
func estimateEvents(bodyLen, firstLen int) int {
	n := bodyLen / firstLen
	return min(n+n/8+1, MaxBatch)
}

// scanOne decodes a single CloudEvent (body[0] is '{'). ok false means the body must go to
// encoding/json.
func scanOne(body []byte) (w wireEvent, ok bool) {
	sc := scanner{b: body}
	i := sc.object(0, &w)
	if i < 0 || sc.space(i) != len(body) {
		return wireEvent{}, false
	}
	return w, true
}

// at returns the byte at i, or 0 (never valid where a token is expected) past the end.
func (sc *scanner) at(i int) byte {
	if uint(i) < uint(len(sc.b)) {
		return sc.b[i]
	}
	return 0
}

// space skips JSON whitespace from i.
func (sc *scanner) space(i int) int {
	for i < len(sc.b) && classes[sc.b[i]]&clsSpace != 0 {
		i++
	}
	return i
}

// object decodes the event object at i into w and returns the position after it.
func (sc *scanner) object(i int, w *wireEvent) int {
	b := sc.b
	i = sc.space(i + 1)
	if sc.at(i) == '}' {
		return i + 1
	}
	for {
		if sc.at(i) != '"' {
			return -1
		}
		k := i + 1
		j := k
		for j < len(b) && classes[b[j]]&clsPlain != 0 {
			j++
		}
		if sc.at(j) != '"' {
			return -1 // an escape, a non-ASCII or control byte, or the end
		}
		key := b[k:j]
		if i = sc.space(j + 1); sc.at(i) != ':' {
			return -1
		}
		i = sc.space(i + 1)
		switch string(key) {
		case "specversion":
			i = sc.attr(i, &w.SpecVersion, &sc.last[0])
		case "id":
			i = sc.attr(i, &w.ID, &sc.last[1])
		case "source":
			i = sc.attr(i, &w.Source, &sc.last[2])
		case "type":
			i = sc.attr(i, &w.Type, &sc.last[3])
		case "subject":
			i = sc.attr(i, &w.Subject, &sc.last[4])
		case "time":
			i = sc.attr(i, &w.Time, &sc.last[5])
		case "datacontenttype":
			i = sc.attr(i, &w.DataContentType, &sc.last[6])
		case "data":
			i = sc.rawData(i, &w.Data)
		case "data_base64":
			// Only compared with null by convert, never kept: a subslice of the body will do.
			if j := sc.value(i, 0); j >= 0 {
				w.DataBase64, i = b[i:j], j
			} else {
				i = -1
			}
		default:
			if foldsToAttr(key) {
				return -1
			}
			i = sc.value(i, 0) // an extension: ignored, but must be valid JSON
		}
		if i < 0 {
			return -1
		}
		i = sc.space(i)
		switch sc.at(i) {
		case ',':
			i = sc.space(i + 1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// foldsToAttr reports whether an ASCII key names an attribute when compared case-insensitively,
// as encoding/json compares them.
func foldsToAttr(key []byte) bool {
	for _, name := range attrNames {
		if len(key) == len(name) && bytes.EqualFold(key, []byte(name)) {
			return true
		}
	}
	return false
}

// attr decodes a string attribute at i into dst, reusing last (then updated) when the value
// repeats; null leaves dst unchanged, as with encoding/json.
func (sc *scanner) attr(i int, dst, last *string) int {
	switch sc.at(i) {
	case '"':
		j, flags := sc.str(i)
		if j < 0 {
			return -1
		}
		v := sc.b[i+1 : j-1]
		switch {
		case flags != 0 && (flags != strHigh || !utf8.Valid(v)):
			// Escapes or invalid UTF-8 (rare): encoding/json decodes them, replacing what is invalid.
			// Into a local: passing dst itself would move every caller's event to the heap.
			var u string
			if json.Unmarshal(sc.b[i:j], &u) != nil {
				return -1
			}
			*dst = u
		case *last == string(v):
			*dst = *last
		default:
			*dst = sc.keepString(v)
			*last = *dst
		}
		return j
	case 'n':
		return sc.literal(i, "null")
	}
	return -1
}

// rawData validates the data value at i and sets dst to its raw bytes.
func (sc *scanner) rawData(i int, dst *json.RawMessage) int {
	j := sc.value(i, 0)
	switch {
	case j < 0:
		return -1
	case sc.b[i] == 'n':
		*dst = nullData
	default:
		*dst = sc.keepData(sc.b[i:j])
	}
	return j
}

// blockSize is the size of a new arena block that must hold n bytes.
func (sc *scanner) blockSize(n int) int {
	return max(min(arenaChunk, len(sc.b)), n)
}

// keepString copies v into the current string block.
func (sc *scanner) keepString(v []byte) string {
	if sc.strs.Cap()-sc.strs.Len() < len(v) {
		sc.strs = strings.Builder{}
		sc.strs.Grow(sc.blockSize(len(v)))
	}
	n := sc.strs.Len()
	sc.strs.Write(v)
	return sc.strs.String()[n:]
}

// keepData copies v into the current data block.
func (sc *scanner) keepData(v []byte) []byte {
	if cap(sc.data)-len(sc.data) < len(v) {
		sc.data = make([]byte, 0, sc.blockSize(len(v)))
	}
	n := len(sc.data)
	sc.data = append(sc.data, v...)
	return sc.data[n:len(sc.data):len(sc.data)]
}

// value validates the JSON value at i and returns the position after it.
func (sc *scanner) value(i, depth int) int {
	switch c := sc.at(i); c {
	case '"':
		j, _ := sc.str(i)
		return j
	case '{', '[':
		if depth >= maxScanDepth {
			return -1
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = sc.space(i + 1)
		if sc.at(i) == end {
			return i + 1
		}
		for {
			if c == '{' {
				if sc.at(i) != '"' {
					return -1
				}
				if i, _ = sc.str(i); i < 0 {
					return -1
				}
				if i = sc.space(i); sc.at(i) != ':' {
					return -1
				}
				i = sc.space(i + 1)
			}
			if i = sc.value(i, depth+1); i < 0 {
				return -1
			}
			i = sc.space(i)
			switch sc.at(i) {
			case ',':
				i = sc.space(i + 1)
			case end:
				return i + 1
			default:
				return -1
			}
		}
	case 't':
		return sc.literal(i, "true")
	case 'f':
		return sc.literal(i, "false")
	case 'n':
		return sc.literal(i, "null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return sc.number(i)
	}
	return -1
}

// literal matches lit at i.
func (sc *scanner) literal(i int, lit string) int {
	if len(sc.b)-i >= len(lit) && string(sc.b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// number validates the JSON number at i: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *scanner) number(i int) int {
	if sc.at(i) == '-' {
		i++
	}
	switch c := sc.at(i); {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = sc.digits(i + 1)
	default:
		return -1
	}
	if sc.at(i) == '.' {
		if classes[sc.at(i+1)]&clsDigit == 0 {
			return -1
		}
		i = sc.digits(i + 1)
	}
	if c := sc.at(i); c == 'e' || c == 'E' {
		i++
		if c := sc.at(i); c == '+' || c == '-' {
			i++
		}
		if classes[sc.at(i)]&clsDigit == 0 {
			return -1
		}
		i = sc.digits(i)
	}
	return i
}

func (sc *scanner) digits(i int) int {
	for i < len(sc.b) && classes[sc.b[i]]&clsDigit != 0 {
		i++
	}
	return i
}

// str validates the string at i (b[i] is '"') and returns the position after its closing quote
// and whether it holds escapes or non-ASCII bytes. Like encoding/json it accepts any byte from
// 0x80 up, valid UTF-8 or not.
func (sc *scanner) str(i int) (int, uint8) {
	b := sc.b
	var flags uint8
	i++
	for {
		for i < len(b) && classes[b[i]]&clsPlain != 0 {
			i++
		}
		if i >= len(b) {
			return -1, 0
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags
		case c == '\\':
			flags |= strEscaped
			switch sc.at(i + 1) {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					return -1, 0
				}
				i += 6
			default:
				return -1, 0
			}
		case c >= utf8.RuneSelf:
			flags |= strHigh
			i++
		default:
			return -1, 0 // a control character
		}
	}
}
