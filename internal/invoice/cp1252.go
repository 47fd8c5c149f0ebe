package invoice

import (
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// cp1252 converts UTF-8 text to the Windows-1252 bytes of the PDF core fonts, writing '.' for a
// character they cannot show. It does what fpdf's UnicodeTranslatorFromDescriptor("") does, but
// is safe for concurrent use and builds no table per document (that was a third of RenderPDF).
func cp1252(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r < 0x80 {
			b.WriteByte(byte(r))
			continue
		}
		c, ok := charmap.Windows1252.EncodeRune(r)
		if !ok || (c >= 0x80 && c < 0xA0 && rune(c) == r) {
			c = '.' // no glyph, or one of the C1 control codes Windows-1252 leaves undefined
		}
		b.WriteByte(c)
	}
	return b.String()
}
