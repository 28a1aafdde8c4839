package agent

import (
	"encoding/binary"
	"testing"
)

// FuzzChannelRequest feeds the payload decoders of the session channel
// requests arbitrary bytes: they must never panic, and what they accept
// must respect their bounds.
func FuzzChannelRequest(f *testing.F) {
	u32 := func(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
	pty := appendString(nil, "xterm")
	for _, v := range []uint32{80, 24, 640, 480} {
		pty = u32(pty, v)
	}
	pty = appendString(pty, "\x00")
	f.Add(byte(0), pty)
	f.Add(byte(1), u32(u32(u32(u32(nil, 132), 50), 0), 0))
	f.Add(byte(2), appendString(appendString(nil, "LANG"), "C.UTF-8"))
	f.Add(byte(3), appendString(nil, "uname -a"))
	f.Add(byte(3), []byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, kind byte, b []byte) {
		switch kind % 4 {
		case 0:
			if p, err := parsePtyRequest(b); err == nil && (len(p.Term) > maxTermLen || p.Cols > maxWindowDim || p.Rows > maxWindowDim || !printable(p.Term)) {
				t.Fatalf("accepted %+v", p)
			}
		case 1:
			if w, err := parseWindowChange(b); err == nil && (w.Cols > maxWindowDim || w.Rows > maxWindowDim) {
				t.Fatalf("accepted %+v", w)
			}
		case 2:
			if e, err := parseEnvRequest(b); err == nil && (e.Name == "" || len(e.Name) > maxEnvName || len(e.Value) > maxEnvValue) {
				t.Fatalf("accepted %+v", e)
			} else if err == nil {
				acceptedEnv(e.Name)
			}
		case 3:
			if s, err := parseString(b, maxCommandLen, "exec"); err == nil && len(s) > maxCommandLen {
				t.Fatalf("accepted %d bytes", len(s))
			}
		}
	})
}

func TestRequestDecoders(t *testing.T) {
	pty := appendString(nil, "xterm")
	for _, v := range []uint32{80, 24, 0, 0} {
		pty = binary.BigEndian.AppendUint32(pty, v)
	}
	pty = appendString(pty, "")
	p, err := parsePtyRequest(pty)
	if err != nil || p.Term != "xterm" || p.Cols != 80 || p.Rows != 24 {
		t.Fatalf("pty-req %+v %v", p, err)
	}
	for name, b := range map[string][]byte{
		"trailing":  append(pty, 0),
		"short":     pty[:len(pty)-1],
		"huge cols": append(append(appendString(nil, "x"), 0, 1, 0, 0), make([]byte, 16)...),
		"control":   append(appendString(nil, "x\x1b"), make([]byte, 20)...),
	} {
		if _, err := parsePtyRequest(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := parseString(appendString(nil, "a\x00b"), 100, "exec"); err == nil {
		t.Error("a command with NUL accepted")
	}
	if _, err := parseEnvRequest(appendString(appendString(nil, "A=B"), "c")); err == nil {
		t.Error("an env name with = accepted")
	}
	for name, want := range map[string]bool{"LANG": true, "LC_ALL": true, "TERM": true, "HOP_X": true, "HOP_CLIENT": false, "HOP_SESSION_ID": false, "PATH": false, "LD_PRELOAD": false, "LC_x": false, "HOP_a-b": false} {
		if acceptedEnv(name) != want {
			t.Errorf("acceptedEnv(%s) = %v", name, !want)
		}
	}
	if got := exitSignalPayload("TERM", false, ""); len(got) != 4+4+1+4+4 {
		t.Errorf("exit-signal payload %x", got)
	}
}
