package invoice

import (
	"testing"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// cp1252 must translate every character exactly as fpdf's own cp1252 translator does.
func TestCP1252MatchesFpdf(t *testing.T) {
	want := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	for r := rune(0); r <= 0x2FFFF; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := "a" + string(r) + "z"
		if got, exp := cp1252(s), want(s); got != exp {
			t.Errorf("U+%04X: got % x, want % x", r, got, exp)
		}
	}
	for _, s := range []string{"", "plain ASCII", "Müller & Søn – €1.234,56 “quoted” …", "日本語 🚀 ok", "\xff broken"} {
		if got, exp := cp1252(s), want(s); got != exp {
			t.Errorf("%q: got % x, want % x", s, got, exp)
		}
	}
}
