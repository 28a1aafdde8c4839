package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The words MIT's profile library takes for true and false
// (prof_get.c, conf_yes and conf_no), in any ASCII case.
var (
	yesWords = []string{"y", "yes", "true", "t", "1", "on"}
	noWords  = []string{"n", "no", "false", "nil", "0", "off"}
)

// asciiEqualFold is strcasecmp(a, b) == 0: ASCII letters only fold.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// ParseBool parses a boolean as MIT's profile library does: y, yes, true,
// t, 1 and on are true; n, no, false, nil, 0 and off are false, in any
// ASCII case; anything else is an error.
func ParseBool(s string) (bool, error) {
	for _, w := range yesWords {
		if asciiEqualFold(s, w) {
			return true, nil
		}
	}
	for _, w := range noWords {
		if asciiEqualFold(s, w) {
			return false, nil
		}
	}
	return false, fmt.Errorf("config: %q is not a boolean (use true or false)", s)
}

// parseInt parses an integer as MIT's profile_get_integer does (strtol in
// base 10: leading blanks, an optional sign, digits, nothing after, within
// a C int).
func parseInt(s string) (int, error) {
	v, err := strconv.ParseInt(skipBlanks(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", s)
	}
	return int(v), nil
}

// ParseDuration parses a duration as MIT's krb5_string_to_deltat does (MIT
// "Supported date and time formats", Time duration): a number of seconds
// ("36000"), units in the order d, h, m, s with optional blanks before each
// number ("10h", "1d 2h", "1h30m", "8h30s"), "h:m" or "h:m:s" ("10:00",
// "10:00:00") or "d-h:m:s" ("1-02:00:00"). Numbers may be negative, and the
// result must fit in 32 bits of seconds. As in MIT, parsing stops at the
// first character that is none of digits, '-', ':', d, h, m, s or blanks,
// so "10hours" is ten hours.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("config: %w", err)
	}
	return d, nil
}

// Bounds of krb5_deltat (a krb5_int32 of seconds).
const (
	maxTime = math.MaxInt32
	minTime = math.MinInt32
	day     = 24 * 3600
	hour    = 3600
)

type durTok int

const (
	dtEOF     durTok = iota
	dtNum            // one or two digits
	dtLongNum        // three digits or more
	dtDash
	dtColon
	dtWS
	dtUnit // d, h, m or s: unit holds the letter
)

type durToken struct {
	kind durTok
	val  int64
	unit byte
}

// lexDuration splits s into tokens up to the end, or up to the first byte
// MIT's lexer does not know, which ends the input (x-deltat.y, mylex).
func lexDuration(s string) ([]durToken, error) {
	var toks []durToken
	for i := 0; ; {
		if i >= len(s) {
			return append(toks, durToken{kind: dtEOF}), nil
		}
		c := s[i]
		switch {
		case c == '-':
			toks = append(toks, durToken{kind: dtDash})
			i++
		case c == ':':
			toks = append(toks, durToken{kind: dtColon})
			i++
		case c == 'd' || c == 'h' || c == 'm' || c == 's':
			toks = append(toks, durToken{kind: dtUnit, unit: c})
			i++
		case '0' <= c && c <= '9':
			start := i
			var n int64
			for i < len(s) && '0' <= s[i] && s[i] <= '9' {
				n = n*10 + int64(s[i]-'0')
				if n > maxTime {
					return nil, errors.New("a number too large")
				}
				i++
			}
			kind := dtNum
			if i-start > 2 {
				kind = dtLongNum
			}
			toks = append(toks, durToken{kind: kind, val: n})
		case c == ' ' || c == '\t' || c == '\n':
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			toks = append(toks, durToken{kind: dtWS})
		default:
			return append(toks, durToken{kind: dtEOF}), nil
		}
	}
}

// durParser parses the tokens with the grammar of x-deltat.y.
type durParser struct {
	toks []durToken
	i    int
}

var errDuration = errors.New(`want seconds, units such as "10h" or "1d 2h 30m", or "h:m:s"`)

func (p *durParser) peek(k int) durToken {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return durToken{kind: dtEOF}
}

// numAhead reports whether a wsnum (blanks, then a number) comes next.
func (p *durParser) numAhead() bool {
	k := 0
	if p.peek(0).kind == dtWS {
		k = 1
	}
	switch p.peek(k).kind {
	case dtNum, dtLongNum, dtDash:
		return true
	}
	return false
}

// wsnum parses optional blanks and a number with an optional minus sign.
func (p *durParser) wsnum() (int64, error) {
	if p.peek(0).kind == dtWS {
		p.i++
	}
	neg := false
	if p.peek(0).kind == dtDash {
		neg = true
		p.i++
	}
	t := p.peek(0)
	if t.kind != dtNum && t.kind != dtLongNum {
		return 0, errDuration
	}
	p.i++
	if neg {
		return -t.val, nil
	}
	return t.val, nil
}

// shortNum parses a number of one or two digits (the fields of h:m:s).
func (p *durParser) shortNum() (int64, error) {
	t := p.peek(0)
	if t.kind != dtNum {
		return 0, errDuration
	}
	p.i++
	return t.val, nil
}

func (p *durParser) expect(k durTok) error {
	if p.peek(0).kind != k {
		return errDuration
	}
	p.i++
	return nil
}

func sumOK(a, b int64) bool {
	if a > 0 {
		return b <= maxTime-a
	}
	return minTime-a <= b
}

func sum(a, b int64) (int64, error) {
	if !sumOK(a, b) {
		return 0, errors.New("a duration beyond 68 years")
	}
	return a + b, nil
}

// unitOK checks a count of days, hours or minutes against the range whose
// seconds fit krb5_deltat (MIT's DAY_NOT_OK and siblings).
func unitOK(v, size int64) bool {
	return v <= maxTime/size && v >= minTime/size
}

// combine is MIT's DO(D, H, M, S).
func combine(d, h, m, s int64) (int64, error) {
	if !unitOK(d, day) || !unitOK(h, hour) || !unitOK(m, 60) {
		return 0, errors.New("a duration beyond 68 years")
	}
	out := d * day
	var err error
	if out, err = sum(out, h*hour); err != nil {
		return 0, err
	}
	if out, err = sum(out, m*60); err != nil {
		return 0, err
	}
	return sum(out, s)
}

// optUnits parses what may follow a unit: nothing (but blanks), or a number
// with a smaller unit among units ("hms" after d, "ms" after h, "s" after
// m), and so on (the rules opt_hms, opt_ms, opt_s).
func (p *durParser) optUnits(units string) (int64, error) {
	if !p.numAhead() {
		if p.peek(0).kind == dtWS {
			p.i++
		}
		return 0, nil
	}
	v, err := p.wsnum()
	if err != nil {
		return 0, err
	}
	t := p.peek(0)
	if t.kind != dtUnit {
		return 0, errDuration
	}
	for j := 0; j < len(units); j++ {
		if units[j] != t.unit {
			continue
		}
		p.i++
		switch t.unit {
		case 'h':
			if !unitOK(v, hour) {
				return 0, errors.New("a duration beyond 68 years")
			}
			rest, err := p.optUnits("ms")
			if err != nil {
				return 0, err
			}
			return sum(v*hour, rest)
		case 'm':
			if !unitOK(v, 60) {
				return 0, errors.New("a duration beyond 68 years")
			}
			rest, err := p.optUnits("s")
			if err != nil {
				return 0, err
			}
			return sum(v*60, rest)
		default: // 's'
			return v, nil
		}
	}
	return 0, errDuration
}

func parseDuration(s string) (time.Duration, error) {
	toks, err := lexDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	p := &durParser{toks: toks}
	secs, err := p.deltat()
	if err == nil && p.peek(0).kind != dtEOF {
		err = errDuration
	}
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	return time.Duration(secs) * time.Second, nil
}

// deltat is the start rule of x-deltat.y.
func (p *durParser) deltat() (int64, error) {
	v, err := p.wsnum()
	if err != nil {
		return 0, err
	}
	t := p.peek(0)
	switch {
	case t.kind == dtUnit:
		p.i++
		switch t.unit {
		case 'd':
			rest, err := p.optUnits("hms")
			if err != nil {
				return 0, err
			}
			return combine(v, 0, 0, rest)
		case 'h':
			rest, err := p.optUnits("ms")
			if err != nil {
				return 0, err
			}
			return combine(0, v, 0, rest)
		case 'm':
			rest, err := p.optUnits("s")
			if err != nil {
				return 0, err
			}
			return combine(0, 0, v, rest)
		default: // 's'
			return combine(0, 0, 0, v)
		}
	case t.kind == dtDash: // d-h:m:s
		p.i++
		var h, m, s int64
		if h, err = p.shortNum(); err != nil {
			return 0, err
		}
		if err = p.expect(dtColon); err != nil {
			return 0, err
		}
		if m, err = p.shortNum(); err != nil {
			return 0, err
		}
		if err = p.expect(dtColon); err != nil {
			return 0, err
		}
		if s, err = p.shortNum(); err != nil {
			return 0, err
		}
		return combine(v, h, m, s)
	case t.kind == dtColon: // h:m or h:m:s
		p.i++
		m, err := p.shortNum()
		if err != nil {
			return 0, err
		}
		if p.peek(0).kind != dtColon {
			return combine(0, v, m, 0)
		}
		p.i++
		s, err := p.shortNum()
		if err != nil {
			return 0, err
		}
		return combine(0, v, m, s)
	}
	return combine(0, 0, 0, v)
}
