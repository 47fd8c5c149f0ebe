package usage

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeOneMistypedCaseVariant: an attribute of the wrong kind under a name that matches only
// case-insensitively still gets a problem (it used to be an InvalidError without any).
func TestDecodeOneMistypedCaseVariant(t *testing.T) {
	for _, body := range []string{`{"speCversion":{}}`, `{"ID":7}`, `{"id":"x","Type":false}`} {
		_, err := DecodeOne([]byte(body))
		var inv *InvalidError
		if !errors.As(err, &inv) || len(inv.Problems) != 1 || inv.Problems[0].Field != "body" || !strings.HasPrefix(inv.Problems[0].Reason, "cannot decode: ") {
			t.Errorf("DecodeOne(%s) = %#v", body, err)
		}
	}
}
