package usage

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// amount is an exact meter value. Values of up to 18 digits (nearly all of them) are held as an
// int64 coefficient and a scale, coef × 10^-scale, and added and compared in integer arithmetic;
// the others, and results that would overflow, as a decimal.Decimal.
type amount struct {
	coef  int64
	scale int32            // digits after the decimal point, 0..maxValueScale; while dec is nil
	dec   *decimal.Decimal // the value when it does not fit the integer form
}

// pow10 holds the powers of ten that fit an int64.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// amountOf returns d as an amount, in the integer form when it fits.
func amountOf(d decimal.Decimal) amount {
	if exp := d.Exponent(); exp <= 0 && -exp <= maxValueScale {
		if c := d.Coefficient(); c.IsInt64() {
			return amount{coef: c.Int64(), scale: -exp}
		}
	}
	return amount{dec: &d}
}

// amountInt returns n as an amount.
func amountInt(n int64) amount { return amount{coef: n} }

// parseAmount reads a plain JSON number without exponent and of at most 18 digits (the fast
// path of meter values); ok is false for anything else.
func parseAmount(s []byte) (a amount, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		neg, i = true, 1
	}
	var c int64
	digits, sig, scale, point := 0, 0, int32(0), false // sig: digits from the first non-zero one
	for ; i < len(s); i++ {
		switch ch := s[i]; {
		case ch >= '0' && ch <= '9':
			c = c*10 + int64(ch-'0')
			digits++
			if c != 0 {
				sig++
			}
			if point {
				scale++
			}
		case ch == '.' && !point && digits > 0:
			point = true
		default:
			return amount{}, false
		}
	}
	if digits == 0 || sig > 18 || scale > maxValueScale || (point && scale == 0) {
		return amount{}, false
	}
	if neg {
		c = -c
	}
	return amount{coef: c, scale: scale}, true
}

// decimal returns a as a decimal.Decimal.
func (a amount) decimal() decimal.Decimal {
	if a.dec != nil {
		return *a.dec
	}
	return decimal.New(a.coef, -a.scale)
}

// aligned returns the coefficients of a and b at their common scale; ok is false when one
// overflows (or either is not in the integer form).
func aligned(a, b amount) (x, y int64, scale int32, ok bool) {
	if a.dec != nil || b.dec != nil {
		return 0, 0, 0, false
	}
	x, y, scale = a.coef, b.coef, a.scale
	switch {
	case a.scale < b.scale:
		x, ok = mul64(x, pow10[b.scale-a.scale])
		scale = b.scale
	case a.scale > b.scale:
		y, ok = mul64(y, pow10[a.scale-b.scale])
	default:
		ok = true
	}
	return x, y, scale, ok
}

// mul64 returns x*y and whether it did not overflow.
func mul64(x, y int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(absInt(x)), uint64(y))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if x < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

// absInt returns |x| for x > math.MinInt64 (the only coefficients mul64 sees: at most 19 digits).
func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// add returns a+b exactly.
func (a amount) add(b amount) amount {
	if x, y, scale, ok := aligned(a, b); ok {
		if s := x + y; (s > x) == (y > 0) {
			return amount{coef: s, scale: scale}
		}
	}
	d := a.decimal().Add(b.decimal())
	return amount{dec: &d}
}

// cmp compares a and b: -1, 0 or +1.
func (a amount) cmp(b amount) int {
	if x, y, _, ok := aligned(a, b); ok {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return a.decimal().Cmp(b.decimal())
}

// digits returns |a| as decimal digits without leading zeros ("0" for zero), the number of them
// after the decimal point with trailing zeros removed, and the sign. It allocates only for values
// outside the integer form.
func (a amount) digits(buf []byte) (ds []byte, scale int32, neg bool) {
	if a.dec != nil {
		d := *a.dec
		neg = d.Sign() < 0
		c, exp := d.Coefficient(), d.Exponent()
		if c.Sign() == 0 {
			return append(buf, '0'), 0, false
		}
		ds = c.Abs(c).Append(buf, 10)
		if exp > 0 {
			for range exp {
				ds = append(ds, '0')
			}
			exp = 0
		}
		scale = -exp
	} else {
		u := uint64(a.coef)
		if a.coef < 0 {
			u, neg = -u, true
		}
		ds, scale = strconv.AppendUint(buf, u, 10), a.scale
	}
	for scale > 0 && len(ds) > 1 && ds[len(ds)-1] == '0' {
		ds, scale = ds[:len(ds)-1], scale-1
	}
	if len(ds) == 1 && ds[0] == '0' {
		scale, neg = 0, false
	}
	return ds, scale, neg
}

// String formats a as decimal.Decimal.String does: no exponent, no trailing fractional zeros.
func (a amount) String() string {
	var buf [48]byte
	ds, scale, neg := a.digits(buf[:0])
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if int(scale) >= len(ds) {
		b.WriteString("0.")
		for range int(scale) - len(ds) {
			b.WriteByte('0')
		}
		b.Write(ds)
		return b.String()
	}
	b.Write(ds[:len(ds)-int(scale)])
	if scale > 0 {
		b.WriteByte('.')
		b.Write(ds[len(ds)-int(scale):])
	}
	return b.String()
}

// appendNumeric appends a in PostgreSQL's binary numeric format, with the display scale its
// String form has (so the stored value prints as the text the rollups used to send): ndigits,
// weight (of the first digit, in powers of 10000), sign, dscale, then the base-10000 digits.
func (a amount) appendNumeric(b []byte) []byte {
	var buf [48]byte
	ds, scale, neg := a.digits(buf[:0])
	// Zeros before ds make the digits split into groups of four at the decimal point.
	intDigits, pad, weight := len(ds)-int(scale), 0, -1
	if intDigits > 0 {
		pad = (4 - intDigits%4) % 4
		weight = (pad+intDigits)/4 - 1
	} else {
		pad = -intDigits
	}
	total := pad + len(ds)
	total += (4 - total%4) % 4
	var gbuf [16]int16
	g := gbuf[:0]
	for k := 0; k < total; k += 4 {
		var d int16
		for j := k; j < k+4; j++ {
			d *= 10
			if j >= pad && j-pad < len(ds) {
				d += int16(ds[j-pad] - '0')
			}
		}
		g = append(g, d)
	}
	// Zero base digits: leading ones lower the weight, trailing ones are implied.
	for len(g) > 0 && g[0] == 0 {
		g, weight = g[1:], weight-1
	}
	for len(g) > 0 && g[len(g)-1] == 0 {
		g = g[:len(g)-1]
	}
	if len(g) == 0 {
		weight = 0
	}
	sign := int16(0)
	if neg {
		sign = 0x4000
	}
	b = appendInt16(b, int16(len(g)))
	b = appendInt16(b, int16(weight))
	b = appendInt16(b, sign)
	b = appendInt16(b, int16(scale))
	for _, d := range g {
		b = appendInt16(b, d)
	}
	return b
}
